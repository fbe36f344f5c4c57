"""A warm worker for `sophia ask`: the imports are paid once, each question in a fresh fork.

Answering takes tens of milliseconds; starting Python and importing what answering needs
(Typer, pydantic, psycopg, redis, the semantic layer) takes several hundred. So, as `chg`
does for Mercurial, the first `sophia ask` answers in its own process as always and starts a
worker in the background that has imported everything; later questions connect to it over a
private unix socket, hand it their stdin, stdout and stderr, their arguments, environment and
working folder, and the worker forks a child that runs exactly the command the CLI would have
run — settings and env files are read afresh by that child, so both answer the same.

A worker serves only callers with its own environment and its own installed code (both are
in the socket's name), only the same user (folder mode 0700 and the peer's credentials), and
stops after `SOPHIA_WARM_IDLE_S` seconds without a question (900). `SOPHIA_WARM=off` in the
process environment answers every question in its own process.

`address` and `client` use the standard library only: they run before anything is imported.
"""
