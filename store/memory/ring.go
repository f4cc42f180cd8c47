package memory

import (
	"encoding/binary"
	"encoding/json"
	"sort"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// ringBlock is the size of the byte blocks the event log is written in.
const ringBlock = 64 << 10

// ring keeps the most recent events, up to max: the log of a
// Workspace.Events reader. Events are kept encoded, one after the other,
// in blocks of bytes: a log of Event values would hold six pointers per
// event for the garbage collector to scan at every cycle (over a hundred
// thousand events by default), bytes it does not scan at all. A block is
// dropped once every event in it has been overwritten.
type ring struct {
	max    int
	blocks [][]byte // written blocks, oldest first; len is the bytes used
	base   uint32   // number of the first block in blocks (modulo 2³²)
	// pos holds, per slot, where an event starts: its block number in the
	// high 32 bits, its offset in the low 32. It grows to max, then wraps.
	pos      []uint64
	start, n int // slot of the oldest event; how many are kept
}

// push appends e, overwriting the oldest event when the log is full.
func (r *ring) push(e port.Event) {
	var buf [16]byte
	at, err := e.At.AppendBinary(buf[:0])
	if err != nil {
		// A zone the binary form cannot hold (an offset of exactly minus
		// one minute): keep the instant, in UTC.
		at, _ = e.At.UTC().AppendBinary(buf[:0])
	}
	fields := [...]string{string(e.Type), e.InteractionID, e.Agent, e.Actor, string(e.State), e.Detail, payload(e)}
	size := 8 + 1 + len(at)
	for _, f := range fields {
		size += uvarintLen(len(f)) + len(f)
	}
	last := len(r.blocks) - 1
	if last < 0 || len(r.blocks[last])+size > cap(r.blocks[last]) {
		r.blocks = append(r.blocks, make([]byte, 0, max(ringBlock, size)))
		last++
	}
	b := r.blocks[last]
	p := uint64(r.base+uint32(last))<<32 | uint64(len(b))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Seq))
	b = append(append(b, byte(len(at))), at...)
	for _, f := range fields {
		b = append(binary.AppendUvarint(b, uint64(len(f))), f...)
	}
	r.blocks[last] = b
	switch {
	case r.n < len(r.pos):
		r.pos[(r.start+r.n)%len(r.pos)] = p
		r.n++
	case len(r.pos) < r.max:
		r.pos = append(r.pos, p) // not wrapped yet, so start is 0
		r.n++
	default:
		r.pos[r.start] = p
		r.start = (r.start + 1) % len(r.pos)
		r.dropBlocks()
	}
}

func uvarintLen(n int) int {
	k := 1
	for ; n >= 0x80; n >>= 7 {
		k++
	}
	return k
}

// dropBlocks lets go of the blocks before the oldest event's.
func (r *ring) dropBlocks() {
	if k := r.block(r.pos[r.start]); k > 0 {
		clear(r.blocks[:k])
		r.blocks = r.blocks[k:]
		r.base += uint32(k)
	}
}

// pop removes the newest event (a rolled-back append). When the push had
// overwritten the oldest event, that one stays lost: the log only promises
// the most recent events.
func (r *ring) pop() {
	if r.n == 0 {
		return
	}
	r.n--
	p := r.pos[(r.start+r.n)%len(r.pos)]
	if b := r.block(p); b == len(r.blocks)-1 {
		r.blocks[b] = r.blocks[b][:uint32(p)] // it was the last written
	}
}

func (r *ring) record(i int) []byte {
	p := r.pos[(r.start+i)%len(r.pos)]
	return r.blocks[r.block(p)][uint32(p):]
}

// block returns the index in blocks of position p's block. Block numbers
// wrap at 2³², so the difference is taken modulo 2³² too.
func (r *ring) block(p uint64) int { return int(uint32(p>>32) - r.base) }

func (r *ring) after(seq int64, limit int) []port.Event {
	i := sort.Search(r.n, func(i int) bool { return int64(binary.LittleEndian.Uint64(r.record(i))) > seq })
	end := r.n
	if limit > 0 && i+limit < end {
		end = i + limit
	}
	out := make([]port.Event, 0, end-i)
	for ; i < end; i++ {
		out = append(out, decodeEvent(r.record(i)))
	}
	return out
}

// An event is written as its Seq (8 bytes), At (a length byte and
// time.Time's binary form), then Type, InteractionID, Agent, Actor, State,
// Detail and the payload (Answer, Review, Deadline in JSON, empty for most
// events), each as a length and its bytes.

func decodeEvent(b []byte) port.Event {
	e := port.Event{Seq: int64(binary.LittleEndian.Uint64(b))}
	b = b[8:]
	next := func() string {
		n, k := binary.Uvarint(b)
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s
	}
	n := int(b[0])
	_ = e.At.UnmarshalBinary(b[1 : 1+n])
	b = b[1+n:]
	e.Type = port.EventType(next())
	e.InteractionID, e.Agent, e.Actor = next(), next(), next()
	e.State = interaction.State(next())
	e.Detail = next()
	if p := next(); p != "" {
		var v eventPayload
		if json.Unmarshal([]byte(p), &v) == nil {
			e.Answer, e.Review, e.Deadline = v.Answer, v.Review, v.Deadline
		}
	}
	return e
}

// eventPayload holds the typed parts of an event that few events have.
type eventPayload struct {
	Answer   *interaction.Answer `json:",omitempty"`
	Review   *interaction.Round  `json:",omitempty"`
	Deadline *interaction.Firing `json:",omitempty"`
}

// payload encodes e's typed parts, or returns "" when it has none.
func payload(e port.Event) string {
	if e.Answer == nil && e.Review == nil && e.Deadline == nil {
		return ""
	}
	b, err := json.Marshal(eventPayload{Answer: e.Answer, Review: e.Review, Deadline: e.Deadline})
	if err != nil {
		return ""
	}
	return string(b)
}
