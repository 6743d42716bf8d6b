"""The sandbox: probing the machine's protections, building and running isolated learner processes."""
