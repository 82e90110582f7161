"""Running an experiment: the facade and its recipes, the worker process, the executor, the scheduler, device slots.

Nothing is imported here, so a page that only queues runs (the scheduler) does not pay for torch.
"""
