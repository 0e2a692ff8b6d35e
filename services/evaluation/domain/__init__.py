"""Pure domain logic of the evaluation service (no grpc, SQLAlchemy or I/O)."""
