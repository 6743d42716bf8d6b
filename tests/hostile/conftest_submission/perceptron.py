"""Nothing implemented: relies on its conftest.py."""


def step(z):
    raise NotImplementedError


predict = train_perceptron = logic_gate = step
