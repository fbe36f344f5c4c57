from sophia_cli.cli.entry import main

main()
