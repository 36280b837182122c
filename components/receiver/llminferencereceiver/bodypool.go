package llminferencereceiver

import (
	"compress/gzip"
	"io"
	"math/bits"
	"sync"
)

// bodyPool lends response-body buffers to scrapes. A body is needed only from its fetch to the
// end of its conversion, a few milliseconds per interval, so buffers kept per target were idle
// nearly all the time: 200 targets held 9 MB of them. Buffers come in power-of-two classes; a
// class keeps at most maxIdle returned buffers and lets the GC have the rest, so the pool holds
// about as many as scrapes run at once (scrapes are spread over the interval, see offset).
type bodyPool struct {
	mu   sync.Mutex
	idle [bodyClasses][][]byte
	// gzip readers (about 45 KB of window and tables each) are lent the same way.
	gz sync.Pool
}

const (
	minBodyClass = 12 // 4 KiB
	bodyClasses  = 31 - minBodyClass
	maxIdle      = 4
)

// class is the smallest class whose buffers hold n bytes.
func class(n int) int {
	if n <= 1<<minBodyClass {
		return 0
	}
	return min(bits.Len(uint(n-1))-minBodyClass, bodyClasses-1)
}

// get returns an empty buffer with room for at least n bytes (up to the largest class).
func (p *bodyPool) get(n int) []byte {
	c := class(n)
	p.mu.Lock()
	if k := len(p.idle[c]); k > 0 {
		b := p.idle[c][k-1]
		p.idle[c] = p.idle[c][:k-1]
		p.mu.Unlock()
		return b[:0]
	}
	p.mu.Unlock()
	return make([]byte, 0, 1<<(c+minBodyClass))
}

// put returns a buffer got from get (or grown from one); it must not be used afterwards.
func (p *bodyPool) put(b []byte) {
	if cap(b) < 1<<minBodyClass {
		return
	}
	// The class whose size b's capacity reaches: what get of that class promises.
	c := min(bits.Len(uint(cap(b)))-1-minBodyClass, bodyClasses-1)
	p.mu.Lock()
	if len(p.idle[c]) < maxIdle {
		p.idle[c] = append(p.idle[c], b[:0])
	}
	p.mu.Unlock()
}

// read reads r to its end into a buffer from the pool with room for sizeHint bytes, growing
// it through the pool, and stops after limit+1 bytes (the caller refuses a body over limit).
func (p *bodyPool) read(r io.Reader, sizeHint int, limit int64) ([]byte, error) {
	b := p.get(sizeHint)
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				return b, nil
			}
			nb := p.get(2 * cap(b))
			nb = append(nb, b...)
			p.put(b)
			b = nb
		}
		room := b[len(b):cap(b)]
		if rest := limit + 1 - int64(len(b)); int64(len(room)) > rest {
			room = room[:rest]
		}
		n, err := r.Read(room)
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if int64(len(b)) > limit {
			return b, nil
		}
	}
}

// gzipReader returns a gzip reader of r, from the pool when one is there.
func (p *bodyPool) gzipReader(r io.Reader) (*gzip.Reader, error) {
	if z, ok := p.gz.Get().(*gzip.Reader); ok {
		if err := z.Reset(r); err != nil {
			p.gz.Put(z)
			return nil, err
		}
		return z, nil
	}
	return gzip.NewReader(r)
}

// putGzipReader returns a reader got from gzipReader once its body has been read.
func (p *bodyPool) putGzipReader(z *gzip.Reader) { p.gz.Put(z) }
