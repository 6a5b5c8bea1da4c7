import os
# Nothing in the test suite may wait on the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")
# Under pytest-xdist (`make test` runs two workers, one file per worker), each worker computes on one thread:
# two workers with two threads each on two cores slow PyTorch down far more than they gain. Set in the worker
# only, not in the environment, so that the processes tests launch (torchrun, servers) keep their own defaults.
if os.environ.get("PYTEST_XDIST_WORKER"):
    import torch
    torch.set_num_threads(1)
