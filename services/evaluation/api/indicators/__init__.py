"""The ``medpay.evaluation.v1`` servicer: proto <-> service layer."""
