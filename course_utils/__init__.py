"""course_utils: the helpers behind the autoencoders & GANs notebooks.

One module per concern: ``config`` (fast/full switch), ``data``, ``models``, ``train``,
``viz``, ``metrics``, ``checkpoints``, ``exercises``, ``noise``, ``widgets``, ``layers``.
"""

__version__ = "0.1.0"
