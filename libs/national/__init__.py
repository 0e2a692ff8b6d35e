"""Reading the national interface's formats where more than one service needs the same reading.

Fee details (2301) are uploaded to collection and reviewed by the evaluation service (files in batch, the
national 3101 in the door): both read a fee line here, so "cnt", "pric" and "same time" mean one thing.
"""
