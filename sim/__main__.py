from sim.experiment.run import main

main()
