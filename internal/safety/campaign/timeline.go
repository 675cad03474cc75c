package campaign

// timeline orders the stored posts by time, oldest first, for eviction: a
// binary min-heap of (At, observation number), so that posts leave in the
// order of their timestamps even when they arrive a little out of order,
// and posts with the same At leave in the order they were observed.
type timeline struct {
	heap []timelineEntry
}

type timelineEntry struct {
	at   int64
	seq  uint64
	slot int32
}

func (e timelineEntry) before(o timelineEntry) bool {
	return e.at < o.at || e.at == o.at && e.seq < o.seq
}

func (t *timeline) len() int { return len(t.heap) }

// oldestAt returns the At of the oldest post; the timeline must not be empty.
func (t *timeline) oldestAt() int64 { return t.heap[0].at }

func (t *timeline) push(at int64, seq uint64, slot int32) {
	t.heap = append(t.heap, timelineEntry{at, seq, slot})
	h := t.heap
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].before(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// popOldest removes the oldest post and returns its slot.
func (t *timeline) popOldest() int32 {
	h := t.heap
	slot := h[0].slot
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].before(h[l]) {
			m = r
		}
		if !h[m].before(h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	t.heap = h
	return slot
}
