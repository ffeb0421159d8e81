"""course_utils: the helpers behind the autoencoders & GANs notebooks.

One module per concern: ``config`` (fast/full switch), ``data``, ``models``, ``train``,
``viz``, ``metrics``, ``checkpoints``, ``exercises``, ``noise``, ``penalties``,
``conv_arithmetic``, ``layers``, the explorers in ``widgets*``, and ``colab`` (the
repository's address).
"""

__version__ = "0.1.0"
