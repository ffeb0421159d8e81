"""course_utils: the helpers behind the autoencoders & GANs notebooks.

One module per concern: ``config`` (fast/full switch, cache folder), ``checks`` (argument and
image checks), ``data``, ``models``, ``train``, ``viz``, ``metrics``, ``checkpoints``, the
``exercises`` package (one module per notebook), ``noise``, ``penalties``, ``conv_arithmetic``,
``layers``, ``classifier``, ``vae``, ``cgan``, ``gan``, the ``widgets`` package (the
explorers, one module per notebook), ``colab`` (the repository's address and release),
``xla_cpu`` (one XLA setting that makes convolutions faster on CPU; it is applied here, on
import, before JAX starts its backend; ``COURSE_XLA_FLAGS=0`` turns it off) and
``compile_cache`` (JAX's persistent compilation cache, turned on here so that each program is
compiled once per machine; ``COURSE_COMPILE_CACHE=0`` turns it off).
"""

from course_utils.xla_cpu import apply_course_xla_flags

__all__ = ["COMPILE_CACHE_DIR", "XLA_FLAGS_APPLIED", "__version__"]

XLA_FLAGS_APPLIED = apply_course_xla_flags()

# after the XLA flags: importing JAX is fine, starting its backend is not
from course_utils.compile_cache import enable_compile_cache  # noqa: E402

COMPILE_CACHE_DIR = enable_compile_cache()

__version__ = "0.2.0"
