"""keras.io GANs ported by changing only the import: the DCGAN on face images, the WGAN-GP
(its gradient penalty written with `torch.autograd.grad`) and the conditional GAN, each with
a torch-style `train_step`, on tiny synthetic images.

Each test pins one behaviour that differed from Keras 3.15 (torch backend) when the program
ran here; the expected values were checked against Keras 3.15 on the same program.
"""

import re
import sys

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers, ops

RNG = np.random.default_rng(0)


def _dcgan_parts(latent_dim=8):
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(16, 16, 3)),
            layers.Conv2D(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(4 * 4 * 8),
            layers.Reshape((4, 4, 8)),
            layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return discriminator, generator


class DCGAN(keras.Model):
    """keras.io's "DCGAN to generate face images" with the torch train step."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.built = True

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def _step(self, network, optimizer, labels, images):
        self.zero_grad()
        loss = self.loss_fn(labels, self.discriminator(images))
        loss.backward()
        weights = network.trainable_weights
        with torch.no_grad():
            optimizer.apply([v.value.grad for v in weights], weights)
        return loss

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        combined = ops.concatenate([self.generator(noise).detach(), real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        noise_labels = keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        labels = 0.95 * labels + 0.05 * noise_labels
        d_loss = self._step(self.discriminator, self.d_optimizer, labels, combined)
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading = ops.zeros((batch_size, 1))
        g_loss = self._step(self.generator, self.g_optimizer, misleading, self.generator(noise))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


class GANMonitor(keras.callbacks.Callback):
    """The example's image callback; like it, it does not call `super().__init__()`."""

    def __init__(self, num_img, latent_dim):
        self.num_img = num_img
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(42)
        self.shapes = []

    def on_epoch_end(self, epoch, logs=None):
        noise = keras.random.normal((self.num_img, self.latent_dim), seed=self.seed_generator)
        images = self.model.generator(noise).detach() * 255
        self.shapes.append(ops.convert_to_numpy(images).shape)


def _fit_dcgan(capsys=None):
    discriminator, generator = _dcgan_parts()
    gan = DCGAN(discriminator=discriminator, generator=generator, latent_dim=8)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        g_optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        loss_fn=keras.losses.BinaryCrossentropy(),
    )
    monitor = GANMonitor(num_img=2, latent_dim=8)
    images = RNG.random((16, 16, 16, 3)).astype("float32")
    history = gan.fit(images, epochs=2, batch_size=8, verbose=2, callbacks=[monitor])
    return gan, history, monitor


# ------------------------------------------------------------------------------- DCGAN


def test_a_model_without_call_raises_with_keras_message():
    # It passed its input through, so `gan(z)` returned z and `predict` "worked". Keras
    # raises NotImplementedError; this project raises no NotImplementedError, so the error is
    # a TypeError (MissingCallError) with Keras's message.
    discriminator, generator = _dcgan_parts()
    gan = DCGAN(discriminator=discriminator, generator=generator, latent_dim=8)
    with pytest.raises(TypeError) as error:
        gan(torch.zeros(2, 8))
    assert str(error.value) == (
        "Exception encountered when calling DCGAN.call().\n\n\x1b[1mModel DCGAN does not "
        "have a `call()` method implemented.\x1b[0m\n\nArguments received by DCGAN.call():\n"
        "  • args=('torch.Tensor(shape=torch.Size([2, 8]), dtype=float32)',)\n"
        "  • kwargs=<class 'inspect._empty'>"
    )


def test_fit_of_an_unbuilt_model_without_call_fails_as_in_keras():
    # keras.io's example leaves the GAN unbuilt; Keras 3.15 calls it on the first batch to
    # build it before fit runs, which fails (this fit used to train).
    discriminator, generator = _dcgan_parts()
    gan = DCGAN(discriminator=discriminator, generator=generator, latent_dim=8)
    gan.built = False
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), keras.losses.BinaryCrossentropy())
    before = [w.numpy().copy() for w in gan.weights]
    with pytest.raises(RuntimeError) as error:
        gan.fit(RNG.random((8, 16, 16, 3)).astype("float32"), batch_size=4, verbose=0)
    assert str(error.value) == (
        "Unable to automatically build the model. Please build it yourself before calling "
        "fit/evaluate/predict. A model is 'built' when its variables have been created and its "
        "`self.built` attribute is True. Usually, calling the model on a batch of data is the "
        "right way to build it.\nException encountered:\n'Exception encountered when calling "
        "DCGAN.call().\n\n\x1b[1mModel DCGAN does not have a `call()` method implemented.\x1b[0m"
        "\n\nArguments received by DCGAN.call():\n  • args=('torch.Tensor(shape=torch.Size("
        "[4, 16, 16, 3]), dtype=float32)',)\n  • kwargs=<class 'inspect._empty'>'"
    )
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, gan.weights))


def test_dcgan_summary_lists_the_unused_compiled_optimizer_as_keras_does(capsys):
    # `super().compile()` compiles rmsprop, which Keras builds over the GAN's weights when
    # fit starts although the step never uses it; its state shows in the summary.
    gan, history, monitor = _fit_dcgan()
    assert list(history.history) == ["d_loss", "g_loss"]
    assert history.params == {"verbose": 2, "epochs": 2, "steps": 2}
    assert monitor.shapes == [(2, 16, 16, 3)] * 2
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 4
    log = capsys.readouterr().out.splitlines()
    assert log[0] == "Epoch 1/2" and log[2] == "Epoch 2/2" and len(log) == 4
    step_line = r"2/2 - \d+s - \d+m?s/step - d_loss: \d\.\d{4} - g_loss: \d\.\d{4}"
    assert all(re.fullmatch(step_line, line) for line in (log[1], log[3]))
    trainable = gan.count_params()
    assert gan.optimizer.built and len(gan.optimizer.variables) == 2 + len(gan.trainable_weights)
    summary = []
    gan.summary(print_fn=summary.append)
    assert f" Total params: {2 * trainable + 2:,} " in summary[0]
    assert f" Optimizer params: {trainable + 2:,} " in summary[0]


def test_evaluate_builds_the_compiled_optimizer_as_keras_does():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.evaluate(np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    # Keras 3.15: 2 + 2 * 2 variables (iterations, learning rate, two moments per weight).
    assert model.optimizer.built and len(model.optimizer.variables) == 6


def test_training_is_not_passed_into_a_calls_var_keyword_arguments():
    seen = []

    class Passthrough(layers.Layer):
        def call(self, inputs, **kwargs):
            seen.append(kwargs)
            return inputs

    Passthrough()(np.zeros((2, 3), "float32"), training=True)
    Passthrough()(np.zeros((2, 3), "float32"), training=True, mask=None)
    # Keras 3.15 passes `training` only to a `call` that names it.
    assert seen == [{}, {"mask": None}]


def test_array_to_img_without_pillow_raises_keras_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError) as error:
        keras.utils.array_to_img(np.zeros((4, 4, 3), "float32"))
    assert str(error.value) == (
        "Could not import PIL.Image. The use of `array_to_img` requires PIL."
    )


# ------------------------------------------------------------------------------ WGAN-GP


def _critic():
    image = layers.Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, (3, 3), strides=(2, 2), padding="same")(image)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(5, activation="tanh")(x)
    x = layers.Dense(1)(x)
    return keras.Model(image, x, name="discriminator")


def _wgan_generator(noise_dim=6):
    noise = layers.Input(shape=(noise_dim,))
    x = layers.Dense(2 * 2 * 4, use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((2, 2, 4))(x)
    x = layers.UpSampling2D((2, 2))(x)
    x = layers.Conv2D(4, (3, 3), padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.UpSampling2D((2, 2))(x)
    x = layers.Conv2D(1, (3, 3), padding="same", activation="tanh")(x)
    return keras.Model(noise, x, name="generator")


def gradient_penalty(critic, real, fake, alpha):
    """The example's penalty, E[(|d critic / d x| - 1)^2] at x between real and fake."""
    interpolated = (real + alpha * (fake - real)).detach().requires_grad_(True)
    prediction = critic(interpolated, training=True)
    (grads,) = torch.autograd.grad(
        prediction, interpolated, grad_outputs=torch.ones_like(prediction), create_graph=True
    )
    norm = ops.sqrt(ops.sum(ops.square(grads), axis=[1, 2, 3]))
    return ops.mean((norm - 1.0) ** 2)


def _torch_critic(params, x):
    """The critic in plain torch (float64); "same" padding with stride 2 pads 8 -> 9 at the
    bottom/right only, as Keras (and TensorFlow) place it."""
    kernel, bias, w1, b1, w2, b2 = params
    h = torch.nn.functional.pad(x.permute(0, 3, 1, 2), (0, 1, 0, 1))
    h = torch.nn.functional.conv2d(h, kernel.permute(3, 2, 0, 1), bias, stride=2)
    h = torch.nn.functional.leaky_relu(h, 0.2).permute(0, 2, 3, 1).flatten(1)
    return torch.tanh(h @ w1 + b1) @ w2 + b2


def _penalty_inputs():
    rng = np.random.default_rng(3)
    real, fake = (torch.tensor(rng.random((4, 8, 8, 1)), dtype=torch.float32) for _ in "ab")
    alpha = torch.tensor(rng.random((4, 1, 1, 1)), dtype=torch.float32)
    return real, fake, alpha


class WGAN(keras.Model):
    """keras.io's WGAN-GP with a torch train step: `d_steps` critic updates per batch, each
    with the penalty's backward, then one generator update."""

    def __init__(self, discriminator, generator, latent_dim, d_steps=2, gp_weight=10.0):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_steps = d_steps
        self.gp_weight = gp_weight
        self.seed_generator = keras.random.SeedGenerator(7)
        self.built = True

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def _apply(self, network, optimizer, loss):
        self.zero_grad()
        loss.backward()
        weights = network.trainable_weights
        with torch.no_grad():
            optimizer.apply([v.value.grad for v in weights], weights)

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        for _ in range(self.d_steps):
            noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            fake_images = self.generator(noise, training=True).detach()
            fake_logits = self.discriminator(fake_images, training=True)
            real_logits = self.discriminator(real_images, training=True)
            alpha = keras.random.uniform((batch_size, 1, 1, 1), seed=self.seed_generator)
            penalty = gradient_penalty(self.discriminator, real_images, fake_images, alpha)
            d_loss = ops.mean(fake_logits) - ops.mean(real_logits) + self.gp_weight * penalty
            self._apply(self.discriminator, self.d_optimizer, d_loss)
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        g_loss = -ops.mean(self.discriminator(self.generator(noise, training=True)))
        self._apply(self.generator, self.g_optimizer, g_loss)
        return {"d_loss": d_loss, "g_loss": g_loss}


def test_wgan_gp_trains_the_critic_d_steps_times_per_batch_and_reloads_its_generator(tmp_path):
    # Keras 3.15 on the same program: these keys, 8 critic and 4 generator updates, and the
    # reloaded generator (BatchNormalization, UpSampling2D) giving the same images.
    wgan = WGAN(_critic(), _wgan_generator(), latent_dim=6)
    adam = dict(learning_rate=2e-4, beta_1=0.5, beta_2=0.9)
    wgan.compile(keras.optimizers.Adam(**adam), keras.optimizers.Adam(**adam))
    critic_before = [w.numpy().copy() for w in wgan.discriminator.trainable_weights]
    images = (RNG.random((16, 8, 8, 1)).astype("float32") - 0.5) / 0.5
    history = wgan.fit(images, batch_size=8, epochs=2, verbose=0)
    assert list(history.history) == ["d_loss", "g_loss"]
    assert (int(wgan.d_optimizer.iterations), int(wgan.g_optimizer.iterations)) == (8, 4)
    # The last bias cancels out of the critic's loss and is not in its input gradient.
    changed = [
        not np.allclose(a, w.numpy())
        for a, w in zip(critic_before, wgan.discriminator.trainable_weights)
    ]
    assert changed == [True] * 5 + [False]
    wgan.generator.save(tmp_path / "generator.keras")
    reloaded = keras.saving.load_model(tmp_path / "generator.keras")
    z = RNG.normal(size=(3, 6)).astype("float32")
    np.testing.assert_array_equal(
        reloaded.predict(z, verbose=0), wgan.generator.predict(z, verbose=0)
    )
    assert len(reloaded.non_trainable_weights) == 4  # the two BatchNormalizations' statistics


def test_gradient_penalty_and_its_weight_gradients_match_plain_torch():
    # Keras 3.15 gave the same penalty and weight gradients on the same weights.
    critic = _critic()
    critic.layers[3].rate = 0.0  # no dropout mask, so the torch twin sees the same network
    real, fake, alpha = _penalty_inputs()
    penalty = gradient_penalty(critic, real, fake, alpha)
    penalty.backward()
    got = [w.value.grad for w in critic.trainable_weights]

    params = [torch.tensor(w, dtype=torch.float64) for w in critic.get_weights()]
    params = [p.requires_grad_() for p in params]
    x = (real + alpha * (fake - real)).double().requires_grad_(True)
    prediction = _torch_critic(params, x)
    (grads,) = torch.autograd.grad(prediction.sum(), x, create_graph=True)
    expected = ((grads.square().sum(dim=[1, 2, 3]).sqrt() - 1.0) ** 2).mean()
    expected.backward()
    torch.testing.assert_close(penalty.double(), expected, rtol=1e-5, atol=1e-6)
    for got_grad, param in zip(got, params):
        # The last bias does not reach d critic / d x: torch leaves its gradient unset.
        if param.grad is None:
            assert got_grad is None
        else:
            torch.testing.assert_close(got_grad.double(), param.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.interpret
def test_gradient_penalty_second_derivatives_through_the_dense_kernel_match_torch_mode(
    monkeypatch,
):
    critic = _critic()
    real, fake, alpha = _penalty_inputs()
    dropout_state = critic.layers[3].seed_generator.state
    start = dropout_state.numpy().copy()

    def penalty_grads(mode):
        keras.config.set_kernel_mode(mode)
        dropout_state.assign(start)  # the same dropout mask in both modes
        for weight in critic.trainable_weights:
            weight.grad = None
        penalty = gradient_penalty(critic, real, fake, alpha)
        penalty.backward()
        return penalty.detach(), [w.grad for w in critic.trainable_weights]

    kernel_module = sys.modules["tritonlayers.kernels.fused_linear"]
    launches = []
    forward = kernel_module._forward
    monkeypatch.setattr(
        kernel_module, "_forward", lambda *args: launches.append(1) or forward(*args)
    )
    want_penalty, want = penalty_grads("torch")
    assert launches == []
    got_penalty, got = penalty_grads("triton")
    assert len(launches) == 2  # both Dense layers ran the Triton kernel
    torch.testing.assert_close(got_penalty, want_penalty)
    for got_grad, want_grad in zip(got, want):
        if want_grad is None:
            assert got_grad is None
        else:
            torch.testing.assert_close(got_grad, want_grad, rtol=1e-5, atol=1e-6)


def test_summary_shows_the_output_shapes_of_functional_submodels():
    class WGAN(keras.Model):
        def __init__(self, discriminator, generator):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.built = True

    wgan = WGAN(_critic(), _wgan_generator())
    lines = []
    wgan.summary(print_fn=lines.append)
    # Keras 3.15 reads each functional model's output shape; it printed "?" here.
    rows = [line for line in lines[0].splitlines() if "(Functional)" in line]
    assert [row.split("│")[2].strip() for row in rows] == ["(None, 1)", "(None, 8, 8, 1)"]


# ---------------------------------------------------------------------- conditional GAN


def test_to_categorical_gives_float64_labels_that_fit_takes_as_float32():
    # keras.io's conditional GAN one-hot encodes its labels; Keras 3.15 returns float64.
    labels = keras.utils.to_categorical(RNG.integers(0, 3, 8), 3)
    assert labels.dtype == np.float64 and labels.shape == (8, 3)
    seen = []

    class Recorder(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            _, one_hot = data
            seen.append(one_hot.dtype)
            return {}

    model = Recorder()
    model.compile()
    model.fit(np.zeros((8, 2), "float32"), labels, batch_size=8, verbose=0)
    assert seen == [torch.float32]
