"""The ranker's feature store (Feast): book, reader and on-demand reader x book features."""
