from sim.experiment.cli import main

main()
