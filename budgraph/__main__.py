from budgraph.cli import main

main()
