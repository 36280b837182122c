package llminferencereceiver

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWorkers: do returns only once its job has run; jobs of many loops run on at most n
// workers at once, and all of them run; before start a job runs on its caller; stop waits for
// the workers to end.
func TestWorkers(t *testing.T) {
	var w workers
	ran := false
	w.do(func() { ran = true })
	require.True(t, ran, "before start, do runs the job itself")

	const n, loops = 2, 12
	w.start(n)
	var running, most, total atomic.Int32
	started, release := make(chan struct{}, loops), make(chan struct{})
	var returnedEarly atomic.Bool
	var wg sync.WaitGroup
	for range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := false
			w.do(func() {
				cur := running.Add(1)
				for m := most.Load(); cur > m && !most.CompareAndSwap(m, cur); m = most.Load() {
				}
				started <- struct{}{}
				<-release
				running.Add(-1)
				total.Add(1)
				done = true
			})
			if !done {
				returnedEarly.Store(true)
			}
		}()
	}
	for range n {
		<-started // n jobs hold their workers until released
	}
	close(release)
	wg.Wait()
	assert.False(t, returnedEarly.Load(), "do returned before its job had run")
	assert.Equal(t, int32(loops), total.Load(), "every job ran")
	assert.Equal(t, int32(n), most.Load(), "jobs ran on n workers at once, no more")

	w.stop()
	ran = false
	w.do(func() { ran = true })
	assert.True(t, ran, "after stop, do runs the job itself")
}
