"""Every function spins forever."""


def step(z):
    while True:
        pass


predict = train_perceptron = logic_gate = step
