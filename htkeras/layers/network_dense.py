"""``NetworkDense``: the base of the flat formats (TT, TR, Tucker, Block-Term, CP), whose factors are
described by one ``htkeras.networks.Network``."""

from __future__ import annotations

import numpy as np

from ..math import networks
from .factorized import FactorizedDense


class NetworkDense(FactorizedDense):
    """A ``FactorizedDense`` whose factors are stored in the shapes they take in their ``Network``.

    Subclasses implement ``_build_network(input_modes, output_modes)`` (and set the resolved ranks),
    ``_factor_names()``, ``_num_terms()`` and ``decompose``; the dense matrix, ``||W||``, the contraction
    and the factor shapes come from the network.
    """

    layout = "separate"
    _layout_argument = True  # whether ``layout`` is a constructor argument

    def _same_num_modes(self) -> bool:
        return self.layout == "paired"

    def _build_network(self, input_modes, output_modes) -> networks.Network:
        raise NotImplementedError

    def _factor_names(self) -> list:
        raise NotImplementedError

    def _setup(self, input_modes, output_modes):
        self.network = self._build_network(input_modes, output_modes)

    def _factor_shapes(self):
        return list(zip(self._factor_names(), self.network.shapes))

    def _matrix_network(self):
        return self.network.matrix_network()

    def _dense_from_factors(self, factors):
        return self.network.dense(factors)

    def _squared_norm(self, factors):
        return self.network.squared_norm(factors)

    def _group_tensor(self, matrix) -> np.ndarray:
        """``matrix`` as a tensor with one axis per factor group (see ``networks.mode_groups``)."""
        return networks.matrix_to_group_tensor(
            matrix, self.resolved_input_modes, self.resolved_output_modes, self.layout
        )

    def get_config(self):
        config = super().get_config()
        ranks = self.ranks
        config["ranks"] = list(ranks) if isinstance(ranks, (list, tuple)) else ranks
        if self._layout_argument:
            config["layout"] = self.layout
        return config
