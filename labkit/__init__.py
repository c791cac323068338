"""labkit: a Jupyter-first lab for deep convolutional recurrent networks (CNN per frame -> RNN -> head).

    from labkit import data, models, train, explain, viz, widgets, runs
"""
__version__ = "0.1.0"
