package llminferencereceiver

import "sync"

// workers run the deep part of every scrape: converting the body and handing the metrics to
// the pipeline (processor, exporter encoding, the queue's write). A goroutine's stack keeps the
// size of its deepest call for as long as it lives, give or take the GC's halving, so when
// each target's loop ran that part itself, 200 targets kept about 60 KB of stack each (12 MB,
// a fifth of the collector's anonymous memory under the stress workload). The loops now only
// wait for their tick and read their target's response, shallow work, and a handful of
// workers, as many as there are CPUs to run them, carry the deep stacks.
type workers struct {
	jobs chan func()
	wg   sync.WaitGroup
}

// start starts n workers.
func (w *workers) start(n int) {
	w.jobs = make(chan func())
	w.wg.Add(n)
	for range n {
		go func() {
			defer w.wg.Done()
			for f := range w.jobs {
				f()
			}
		}()
	}
}

// do runs f on a worker and returns when f has returned. Before start it runs f itself (tests
// drive a loop's scrape without starting the receiver).
func (w *workers) do(f func()) {
	if w.jobs == nil {
		f()
		return
	}
	done := make(chan struct{})
	w.jobs <- func() {
		defer close(done)
		f()
	}
	<-done
}

// stop lets the workers finish and waits for them. Every loop has ended before: no do may be
// running or come after it.
func (w *workers) stop() {
	if w.jobs == nil {
		return
	}
	close(w.jobs)
	w.wg.Wait()
	w.jobs = nil
}
