"""gRPC servicers of the evaluation service."""
