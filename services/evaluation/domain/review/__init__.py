"""Smart review (智能审核): the knowledge library, the versioned rule library and the review engine.

Pure domain code over immutable values: no grpc, SQLAlchemy or I/O. Rule sets and knowledge libraries arrive as
plain data (read from files or RPCs by the adapters) and are validated here before anything runs on them.
"""
