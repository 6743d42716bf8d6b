"""Every function spins forever."""


def _spin():
    while True:
        pass


def step(z):
    _spin()


def predict(X, w, b):
    _spin()


def train_perceptron(X, y, lr=1.0, epochs=100):
    _spin()


def logic_gate(name):
    _spin()
