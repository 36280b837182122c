package rwsink

import (
	"bytes"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func series(ts int64, v float64, lbls ...string) prompb.TimeSeries {
	s := prompb.TimeSeries{Samples: []prompb.Sample{{Timestamp: ts, Value: v}}}
	for i := 0; i < len(lbls); i += 2 {
		s.Labels = append(s.Labels, prompb.Label{Name: lbls[i], Value: lbls[i+1]})
	}
	return s
}

func post(t *testing.T, url, encoding string, ts ...prompb.TimeSeries) int {
	raw, err := (&prompb.WriteRequest{Timeseries: ts}).Marshal()
	require.NoError(t, err)
	var body []byte
	switch encoding {
	case "zstd":
		enc, err := zstd.NewWriter(nil)
		require.NoError(t, err)
		body = enc.EncodeAll(raw, nil)
	default:
		body = snappy.Encode(nil, raw)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", encoding)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSinkCountsAndValidates(t *testing.T) {
	now := time.Now().UnixMilli()
	stale := math.Float64frombits(value.StaleNaN)
	tests := []struct {
		name     string
		encoding string
		series   []prompb.TimeSeries
		code     int
	}{
		{"snappy", "snappy", []prompb.TimeSeries{series(now, 1, "__name__", "up", "pod", "a")}, http.StatusNoContent},
		{"zstd", "zstd", []prompb.TimeSeries{series(now, 2, "__name__", "up", "pod", "b")}, http.StatusNoContent},
		{"stale marker", "snappy", []prompb.TimeSeries{series(now+1, stale, "__name__", "up", "pod", "a")}, http.StatusNoContent},
		{"no name", "snappy", []prompb.TimeSeries{series(now, 1, "pod", "a")}, http.StatusBadRequest},
		{"unsorted labels", "snappy", []prompb.TimeSeries{series(now, 1, "pod", "a", "__name__", "up")}, http.StatusBadRequest},
		{"duplicate label", "snappy", []prompb.TimeSeries{series(now, 1, "__name__", "up", "pod", "a", "pod", "b")}, http.StatusBadRequest},
		{"empty value", "snappy", []prompb.TimeSeries{series(now, 1, "__name__", "up", "pod", "")}, http.StatusBadRequest},
		{"invalid metric name", "snappy", []prompb.TimeSeries{series(now, 1, "__name__", "vllm:x-y")}, http.StatusBadRequest},
		{"ancient timestamp", "snappy", []prompb.TimeSeries{series(1000, 1, "__name__", "up")}, http.StatusBadRequest},
	}
	s, err := Start(Options{TrackLabel: "pod", CountByMetric: true})
	require.NoError(t, err)
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.code, post(t, s.URL, tt.encoding, tt.series...))
		})
	}
	st := s.Stats()
	assert.EqualValues(t, len(tests), st.Requests)
	assert.EqualValues(t, 3, st.Samples, "only accepted requests count")
	assert.EqualValues(t, 1, st.StaleMarkers)
	assert.Equal(t, 2, st.Series)
	assert.EqualValues(t, 6, st.Rejected)
	assert.Contains(t, st.FirstError, "no __name__")
	a := s.Label("a")
	assert.EqualValues(t, 2, a.Samples)
	assert.EqualValues(t, 1, a.StaleMarkers)
	assert.Equal(t, map[string]int64{"up": 2}, s.ByMetric(), "stale markers are not counted by metric")
	assert.Zero(t, s.Label("nobody").Samples)
}
