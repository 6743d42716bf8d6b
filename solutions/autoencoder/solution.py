"""Autoencoders: a convolutional encoder, a Conv2DTranspose decoder, and denoising.

An autoencoder learns to give back its own input through a narrow middle, the bottleneck (the
code, or latent): the encoder squeezes a 28x28x1 digit into fewer numbers than its 784 pixels,
the decoder builds the image back from them. It is trained with the input as its own target.

The reference has the layers of the lecture notes' autoencoder (Conv2d(1, 6, 3, padding=1), ReLU,
MaxPool2d(2), Conv2d(6, 4, 3, padding=1), ReLU, MaxPool2d(2), then two transposed convolutions)
with more filters (16 and 8: the notes' 6 and 4 train unreliably, see the README), and its decoder
uses padding="same" so that it comes back to exactly 28x28 (the notes' ConvTranspose2d(4, 6, 3, 2),
ConvTranspose2d(6, 1, 3, 2) gives 15x15 and then 31x31):

    Input                                                       (28, 28, 1)
    Conv2D(16, 3, padding="same", relu)                         (28, 28, 16)     160 parameters
    MaxPooling2D(2)                                             (14, 14, 16)       0
    Conv2D(8, 3, padding="same", relu)                          (14, 14, 8)    1,160
    MaxPooling2D(2)                                             (7, 7, 8)          0   bottleneck: 392 numbers
    Conv2DTranspose(16, 3, strides=2, padding="same", relu)     (14, 14, 16)   1,168
    Conv2DTranspose(1, 3, strides=2, padding="same", sigmoid)   (28, 28, 1)      145   total 2,633

A denoising autoencoder is trained with noisy inputs (add_noise) and the clean images as targets;
the grader measures the reconstruction error of held-out digits, clean and noisy (std NOISE_STD),
against the clean digits.

Use `keras` (Keras 3) only: no `tensorflow` imports, so the code runs on every backend.
Run the public tests with `dlgrade check`.
"""

import keras
import numpy as np
from keras import layers

NOISE_STD = 0.3  # the standard deviation of the noise of the grader's noisy test (see the README)


def build_autoencoder(input_shape=(28, 28, 1)):
    """Build and compile a convolutional autoencoder for images of `input_shape` (height, width,
    channels; height and width divisible by 4); return the model.

    The model's output shape must equal its input shape; somewhere in the middle it must hold
    fewer numbers than the input (the bottleneck: every path from the input to the output goes
    through it, so no shortcut around it), and the decoder must use Conv2DTranspose to come back
    to the input's height and width. Start the model with `keras.Input(shape=input_shape)`.

    Compile it with a reconstruction loss ("mse", or "binary_crossentropy" with a sigmoid
    output) and an optimizer of your choice (for example "adam").
    """
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(input_shape[-1], 3, strides=2, padding="same", activation="sigmoid"),
    ], name="autoencoder")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005), loss="mse")
    return model
    ### END SOLUTION


def train_autoencoder(model, x):
    """Train `model` (made by build_autoencoder) as a denoising autoencoder on the images `x`
    (shape (n, height, width, channels), values in [0, 1]): `x` is the target, and the inputs are
    `x` with noise added by add_noise (standard deviation NOISE_STD; you may also feed the clean
    `x` as inputs, alongside). Return the training history, `model.fit(...).history` (a dict such
    as {"loss": [...]}).

    You choose the number of epochs and the batch size; keep well within the time limit of the
    README, and pass verbose=0 to keep the output short.
    """
    ### BEGIN SOLUTION
    noisy = add_noise(x, NOISE_STD, seed=0)
    history = model.fit(noisy, x, epochs=10, batch_size=64, verbose=0)
    return history.history
    ### END SOLUTION


def add_noise(x, std, seed):
    """Return a noisy copy of the images `x`: Gaussian noise of mean 0 and standard deviation
    `std` added to every value, drawn with `np.random.default_rng(seed)`, and the result clipped
    to [0, 1]. Same shape as `x`, float32; the same seed gives the same noise.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0.0, std, size=x.shape)
    noisy = x + noise.astype(np.float32)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)
    ### END SOLUTION
