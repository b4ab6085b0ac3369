package pyfn

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The wire types of protocol.md. Keys and header values are []byte, which
// encoding/json carries as base64.
type (
	message struct {
		Value   json.RawMessage
		Key     []byte
		Headers []header
		Topics  []string
		JoinID  string
	}
	header struct {
		Key   string `json:"k"`
		Value []byte `json:"v"`
	}
	record struct {
		Value   json.RawMessage `json:"v"`
		Topics  []string        `json:"t,omitempty"`
		Key     []byte          `json:"k,omitempty"`
		Headers []header        `json:"h,omitempty"`
	}
	// result is one message's: its records, or why it failed, and the
	// nanoseconds its process call took.
	result struct {
		Records []record `json:"r"`
		Err     string   `json:"e"`
		Class   string   `json:"c"`
		Nanos   int64    `json:"d"`
	}
	// reply is any frame Python writes: the results of the batch's next
	// messages, in order, or one of the start frames.
	reply struct {
		Results []result `json:"rs"`
		Fatal   string   `json:"fatal"`
		Ready   *struct {
			Python string `json:"python"`
			PID    int    `json:"pid"`
			Init   bool   `json:"init"`
		} `json:"ready"`
	}
)

// maxFrame bounds a frame from Python: a reply larger than this is a broken
// interpreter, not a record (the worker refuses messages over 1 MiB).
const maxFrame = 64 << 20

// appendBatch appends the frame of a batch of messages to b. The values
// are the runtime's joined JSON objects and go in as they are; only the
// small fields go through encoding/json.
func appendBatch(b []byte, msgs []message) []byte {
	b = append(b, 0, 0, 0, 0)
	start := len(b)
	b = append(b, `{"batch":[`...)
	for i := range msgs {
		m := &msgs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"v":`...)
		b = append(b, m.Value...)
		b = append(b, `,"j":`...)
		b = appendJSON(b, m.JoinID)
		if len(m.Topics) > 0 {
			b = append(b, `,"t":`...)
			b = appendJSON(b, m.Topics)
		}
		if m.Key != nil {
			b = append(b, `,"k":`...)
			b = appendJSON(b, m.Key)
		}
		if len(m.Headers) > 0 {
			b = append(b, `,"h":`...)
			b = appendJSON(b, m.Headers)
		}
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	binary.BigEndian.PutUint32(b[start-4:], uint32(len(b)-start))
	return b
}

func appendJSON(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil { // strings, string slices, bytes and headers always encode
		panic(err)
	}
	return append(b, j...)
}

func appendFrame(b []byte, v any) []byte {
	j := appendJSON(nil, v)
	b = binary.BigEndian.AppendUint32(b, uint32(len(j)))
	return append(b, j...)
}

var errProtocol = errors.New("protocol error")

// readFrame reads one frame into buf (grown as needed) and decodes it.
func readFrame(r io.Reader, buf *[]byte) (reply, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return reply{}, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > maxFrame {
		return reply{}, fmt.Errorf("%w: a %d-byte frame", errProtocol, n)
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	body := (*buf)[:n]
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return reply{}, err
	}
	var rep reply
	if err := json.Unmarshal(body, &rep); err != nil {
		return reply{}, fmt.Errorf("%w: %v", errProtocol, err)
	}
	return rep, nil
}
