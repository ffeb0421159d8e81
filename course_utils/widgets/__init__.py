"""Interactive explorers: move a slider, see the model's answer in a few milliseconds.

    from course_utils.widgets import latent_size_explorer
    explorer = latent_size_explorer(x_test[:10], reconstructions, errors)
    explorer                                    # shows the controls and the image in Jupyter
    explorer.controls["latent_dim"].value = 5   # what the slider does, from Python (tests)
    explorer.frames["digits"]                   # float32[H, W] in [0, 1]: the image now shown

``core`` holds the plumbing every explorer shares (``Explorer``, PNG images, argument checks,
the latent-plane background, a slider over models trained beforehand); each notebook's explorers
live in the module named after it (``nb02_latent_dimension`` … ``nb09_diffusion``), and
every public name is importable from here.
"""

from course_utils.widgets.core import (
    Explorer,
    PerValue,
    PerValueStats,
    check_digit_scale,
    check_size_px,
    decode_png,
    draw_marker,
    flat_images,
    hex_rgb,
    jitted_function,
    png_bytes,
    scatter_background,
    trained_models_explorer,
)
from course_utils.widgets.nb02_latent_dimension import latent_plane_explorer, latent_size_explorer
from course_utils.widgets.nb03_denoising import noise_explorer
from course_utils.widgets.nb04_regularized_autoencoders import feature_images, sparsity_explorer
from course_utils.widgets.nb05_convolutional_autoencoders import (
    CELL_COLORS,
    Diagram,
    conv_arithmetic_explorer,
    conv_diagram,
)
from course_utils.widgets.nb06_gans import (
    GANLabExplorer,
    gan_lab_explorer,
    generator_forces,
    noise_grid,
    render_curve,
    render_field,
)
from course_utils.widgets.nb07_variational_autoencoders import (
    LatentExplorer,
    beta_explorer,
    prior_mass_within,
    vae_latent_explorer,
)
from course_utils.widgets.nb08_conditional_gans import cgan_explorer, inpainting_explorer
from course_utils.widgets.nb09_diffusion import render_points, reverse_process_explorer

__all__ = [
    "CELL_COLORS",
    "Diagram",
    "Explorer",
    "PerValue",
    "PerValueStats",
    "GANLabExplorer",
    "LatentExplorer",
    "beta_explorer",
    "cgan_explorer",
    "check_digit_scale",
    "check_size_px",
    "conv_arithmetic_explorer",
    "conv_diagram",
    "decode_png",
    "draw_marker",
    "feature_images",
    "flat_images",
    "gan_lab_explorer",
    "generator_forces",
    "hex_rgb",
    "inpainting_explorer",
    "jitted_function",
    "latent_plane_explorer",
    "latent_size_explorer",
    "noise_explorer",
    "noise_grid",
    "png_bytes",
    "prior_mass_within",
    "render_curve",
    "render_field",
    "render_points",
    "reverse_process_explorer",
    "scatter_background",
    "sparsity_explorer",
    "trained_models_explorer",
    "vae_latent_explorer",
]
