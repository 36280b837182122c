package promconv

// lineTable is the line cache: the cached lines of one target by their key. It is an
// open-addressing table (linear probing) indexed by the key's first hash, which is already
// uniform: a Go map hashed the 16-byte key once more and compared it through its generic path,
// 5.6% of the collector's CPU on the node workload of make bench (perf), for one lookup per
// sample line of every scrape.
type lineTable struct {
	slots []lineSlot // a power of two long, at most 3/4 full; a nil line marks a free slot
	n     int
}

type lineSlot struct {
	key lineKey
	ln  *line
}

// minLineSlots is the size of a table's first allocation.
const minLineSlots = 64

func (t *lineTable) len() int { return t.n }

// get returns the line of key k, or nil.
func (t *lineTable) get(k lineKey) *line {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := k.xx & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.ln == nil {
			return nil
		}
		if s.key == k {
			return s.ln
		}
	}
}

// put sets the line of key k.
func (t *lineTable) put(k lineKey, ln *line) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.rehash(max(minLineSlots, 2*len(t.slots)))
	}
	t.insert(k, ln)
}

func (t *lineTable) insert(k lineKey, ln *line) {
	mask := uint64(len(t.slots) - 1)
	for i := k.xx & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.ln == nil {
			*s = lineSlot{key: k, ln: ln}
			t.n++
			return
		}
		if s.key == k {
			s.ln = ln
			return
		}
	}
}

// rehash moves the lines into a table of size slots (a power of two).
func (t *lineTable) rehash(size int) {
	old := t.slots
	t.slots, t.n = make([]lineSlot, size), 0
	for _, s := range old {
		if s.ln != nil {
			t.insert(s.key, s.ln)
		}
	}
}

// retain drops the lines keep refuses. A scrape in the steady state drops none, and then this
// is one pass over the slots; otherwise the survivors move into a table sized for them, which
// also gives back the memory of a target that shrank.
func (t *lineTable) retain(keep func(*line) bool) {
	drop := 0
	for i := range t.slots {
		if ln := t.slots[i].ln; ln != nil && !keep(ln) {
			t.slots[i].ln = nil // the slot is free, but the probe sequences through it are broken
			drop++
		}
	}
	if drop == 0 {
		return
	}
	live := t.n - drop
	size := minLineSlots
	for 4*live > 3*size {
		size *= 2
	}
	old := t.slots
	t.slots, t.n = nil, 0
	if live > 0 {
		t.slots = make([]lineSlot, size)
		for _, s := range old {
			if s.ln != nil {
				t.insert(s.key, s.ln)
			}
		}
	}
}

// reset drops every line.
func (t *lineTable) reset() { t.slots, t.n = nil, 0 }
