"""Print hundreds of megabytes to stdout and stderr."""
import sys

chunk = "FLOOD " * 10000 + "\n"
for _ in range(5000):
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)


def step(z):
    for _ in range(5000):
        print(chunk)
    return [7, 7, 7]


predict = train_perceptron = logic_gate = step
