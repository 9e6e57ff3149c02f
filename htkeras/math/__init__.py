"""The tensor math behind every layer, in NumPy and ``keras.ops`` (no Keras layers here).

* ``tree``: binary dimension trees (``DimensionTree``) and rank specifications;
* ``ht``: Hierarchical Tucker matrices: factor shapes, parameter count, dense reconstruction, norm, HT-SVD and
  the tensor network that applies an HT matrix to a batch;
* ``networks``: the flat formats' tensor networks (TT, TR, Tucker, Block-Term, CP);
* ``decompositions``: TT-SVD, ST-HOSVD, block terms and CP-ALS of dense tensors;
* ``contraction``: pairwise contraction plans with a cost model, run as batched matmuls or einsums;
* ``tensorize``: factoring sizes into modes (automatic tensorization).
"""

from . import contraction, decompositions, ht, networks, tensorize, tree

__all__ = ["contraction", "decompositions", "ht", "networks", "tensorize", "tree"]
