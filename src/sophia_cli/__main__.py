from sophia_cli.cli.main import main

main()
