"""Self-checks for the notebooks' exercises.

Each ``check_*`` function takes the student's answer, tries it on small inputs and returns a
``CheckResult`` that Jupyter shows as one line: "✅ correct" or "❌ not yet" with a hint
aimed at the most likely mistake. A check never raises, so a notebook with an unfinished
exercise still runs top to bottom.

``core`` holds the protocol (``exercise_check``, ``expect``, ``Hint``, ``CheckResult``); each
notebook's checks live in the module named after it (``nb01_autoencoder_basics`` …
``nb09_diffusion``), and every public name is importable from here:
``from course_utils.exercises import check_reconstruction_loss``.
"""

from course_utils.exercises.core import CheckResult, Hint, close, exercise_check, expect, run_check
from course_utils.exercises.nb01_autoencoder_basics import (
    BUILD_AE,
    check_ae_training,
    check_bottleneck,
    check_encoder,
    check_reconstruction_loss,
)
from course_utils.exercises.nb02_latent_dimension import (
    BUILD_2D,
    check_auroc,
    check_beat_pca_2d,
    check_pca_reconstruction,
    check_subspace_overlap,
)
from course_utils.exercises.nb03_denoising import (
    BUILD_DAE,
    check_dae_loss,
    check_dae_training,
    check_masking_noise,
    check_psnr,
)
from course_utils.exercises.nb04_regularized_autoencoders import (
    BUILD_SPARSE,
    check_contractive_penalty,
    check_kl_sparsity,
    check_sparse_loss,
    check_sparse_training,
)
from course_utils.exercises.nb05_convolutional_autoencoders import (
    BUILD_CONV,
    STACK_05,
    check_conv_autoencoder,
    check_insert_zeros,
    check_stack_sizes,
    check_transposed_output_size,
)
from course_utils.exercises.nb06_gans import (
    BUILD_GAN,
    check_d_loss,
    check_gan_training,
    check_nonsaturating_g_loss,
    check_optimal_discriminator,
    check_slerp,
)
from course_utils.exercises.nb07_variational_autoencoders import (
    BUILD_VAE,
    BuildVAE,
    check_bernoulli_log_likelihood,
    check_diagonal_gaussian_kl,
    check_gaussian_nll,
    check_vae_training,
    diag_gaussian_kl,
)
from course_utils.exercises.nb08_conditional_gans import (
    BUILD_CGAN,
    PATCH_DISCRIMINATOR_08,
    check_cgan_training,
    check_conditional_input,
    check_cycle_loss,
    check_patch_receptive_field,
    check_pix2pix_g_loss,
)
from course_utils.exercises.nb09_diffusion import (
    BUILD_DDPM,
    NoiseMLP,
    check_ddpm_loss,
    check_ddpm_training,
    check_forward_sample,
    check_reverse_step,
    linear_schedule,
)

__all__ = [
    # the protocol
    "CheckResult", "Hint", "expect", "exercise_check", "run_check", "close",
    # notebook 01
    "check_reconstruction_loss", "check_bottleneck", "check_encoder",
    "BUILD_AE", "check_ae_training",
    # notebook 02
    "check_pca_reconstruction", "check_auroc", "check_subspace_overlap",
    "BUILD_2D", "check_beat_pca_2d",
    # notebook 03
    "BUILD_DAE", "check_dae_loss", "check_dae_training", "check_masking_noise", "check_psnr",
    # notebook 04
    "check_sparse_loss", "check_contractive_penalty", "check_kl_sparsity",
    "BUILD_SPARSE", "check_sparse_training",
    # notebook 05
    "STACK_05", "check_transposed_output_size", "check_stack_sizes", "check_insert_zeros",
    "BUILD_CONV", "check_conv_autoencoder",
    # notebook 06
    "check_d_loss", "check_nonsaturating_g_loss", "check_optimal_discriminator", "check_slerp",
    "BUILD_GAN", "check_gan_training",
    # notebook 07
    "diag_gaussian_kl", "check_diagonal_gaussian_kl",
    "check_bernoulli_log_likelihood", "check_gaussian_nll",
    "BUILD_VAE", "BuildVAE", "check_vae_training",
    # notebook 08
    "BUILD_CGAN", "check_cgan_training",
    "PATCH_DISCRIMINATOR_08", "check_conditional_input", "check_pix2pix_g_loss",
    "check_patch_receptive_field", "check_cycle_loss",
    # notebook 09
    "linear_schedule", "check_forward_sample", "check_ddpm_loss", "check_reverse_step",
    "BUILD_DDPM", "NoiseMLP", "check_ddpm_training",
]
