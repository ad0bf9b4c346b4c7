"""Index: vector stores behind one contract, chosen by URL scheme."""
