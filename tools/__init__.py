"""Build tools for the book: the runner and the chapter sync.

Used by ``make``, the tests and the book's maintainers; never imported by a
chapter, so readers who install ``helpers`` do not get them.
"""
