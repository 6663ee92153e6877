from sim.cli.run import main

main()
