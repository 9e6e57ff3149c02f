import keras

import htkeras


def test_summary_of_a_mixed_model():
    model = keras.Sequential(
        [
            keras.Input((5, 40)),
            keras.layers.RNN(htkeras.FDHTLSTMCell(16, ranks=3)),
            keras.layers.Dense(10),
        ]
    )
    report = htkeras.compression_summary(model, print_fn=None)
    assert [r.kind for r in report.rows] == ["RNN(FDHTLSTMCell)", "Dense"]
    assert report.total.params == model.count_params()
    fdht = report.rows[0].stats
    assert fdht.dense_params == (40 + 16) * 64 + 64 and fdht.compression > 1
    assert "total" in str(report) and report.unknown_flops == 0


def test_summary_of_keras_layers_and_bidirectional():
    model = keras.Sequential(
        [
            keras.Input((5, 8)),
            keras.layers.Bidirectional(keras.layers.RNN(htkeras.HTGRUCell(6, ranks=2), return_sequences=True)),
            keras.layers.LSTM(4),
            keras.layers.Dense(3),
        ]
    )
    report = htkeras.compression_summary(model, print_fn=None)
    assert len(report.rows) == 4
    lstm = report.rows[2].stats
    assert lstm.params == lstm.dense_params == 4 * (12 + 4 + 1) * 4
    assert report.total.params == model.count_params()


def test_summary_of_a_single_layer():
    layer = htkeras.HTDense([4, 4], [4, 4], ranks=2)
    layer.build((None, 16))
    report = htkeras.compression_summary(layer, print_fn=None)
    assert report.total == layer.compression_stats()
