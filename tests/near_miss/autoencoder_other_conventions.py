"""An autoencoder written in other conventions the README allows: nested encoder and decoder
models in the functional API, the notes' decoder (padding "valid": 31x31) cropped back to 28x28,
no activation on the last layer (as the notes), a loss object, training on clean and noisy inputs
together, and noise drawn as std * standard_normal. It must get full marks."""

import keras
import numpy as np
from keras import layers


def build_autoencoder(input_shape=(28, 28, 1)):
    h, w, c = input_shape
    encoder = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(16, 3, padding="same"),
        layers.ReLU(),
        layers.MaxPooling2D(2, 2),
        layers.Conv2D(8, 3, padding="same"),
        layers.ReLU(),
        layers.MaxPooling2D(2, 2),
    ], name="encoder")
    code = encoder.output_shape[1:]
    decoder = keras.Sequential([
        keras.Input(shape=code),
        layers.Conv2DTranspose(16, 3, strides=2),          # 7 -> 15, as the notes' ConvTranspose2d(4, 6, 3, 2)
        layers.ReLU(),
        layers.Conv2DTranspose(c, 3, strides=2),           # 15 -> 31
        layers.Cropping2D(((1, 2), (1, 2))),               # 31 -> 28
    ], name="decoder")
    inputs = keras.Input(shape=input_shape, name="image")
    model = keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss=keras.losses.MeanSquaredError())
    return model


def add_noise(x, std, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float32)
    return np.clip(x + std * rng.standard_normal(x.shape, dtype=np.float32), 0.0, 1.0)


def train_autoencoder(model, x):
    inputs = np.concatenate([x, add_noise(x, 0.3, 1)])
    targets = np.concatenate([x, x])
    return model.fit(inputs, targets, epochs=5, batch_size=64, shuffle=True, verbose=0).history
