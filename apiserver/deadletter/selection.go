package deadletter

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
)

// MaxSelection bounds the records one redrive request reads.
const MaxSelection = 1000

// Selection says which dead letters to redrive: Offsets, or UpTo, or
// neither (every record of the topic); Class narrows either to one error
// class; ToTopic sends them to that input instead of their source.
type Selection struct {
	Offsets []Cursor
	UpTo    []Cursor // every record of the partition at or below the offset
	Class   string
	ToTopic string
}

// validate refuses a selection that cannot be run, naming its field.
func (sel Selection) validate(w Worker) error {
	switch {
	case len(sel.Offsets) > 0 && len(sel.UpTo) > 0:
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "up_to", "choose offsets or up_to, not both")
	case len(sel.Offsets) == 0 && len(sel.UpTo) == 0 && sel.Class == "":
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "offsets", "select dead letters: offsets, up_to or class")
	case sel.ToTopic != "" && !slices.Contains(w.Inputs, sel.ToTopic):
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "to_topic", "%q is not an input topic of worker %s (%s)",
			sel.ToTopic, w.Name, strings.Join(w.Inputs, ", "))
	}
	for field, cs := range map[string][]Cursor{"offsets": sel.Offsets, "up_to": sel.UpTo} {
		for i, c := range cs {
			if c.Partition < 0 {
				return apiserver.FieldErrorf(apiserver.CodeInvalid, fmt.Sprintf("%s[%d].partition", field, i), "must be 0 or more")
			}
			if c.Offset < 0 {
				return apiserver.FieldErrorf(apiserver.CodeInvalid, fmt.Sprintf("%s[%d].offset", field, i), "must be 0 or more")
			}
		}
	}
	return nil
}

// span is a range of offsets [from, to) of one partition to read; wanted,
// when not nil, is the offsets of it selected.
type span struct {
	partition int32
	from, to  int64
	wanted    map[int64]bool
}

// spans turns the selection into ranges to read, refusing the offsets the
// topic does not hold. It fails when they add up to more than MaxSelection.
func (sel Selection) spans(bounds []kafkaadmin.Bounds) ([]span, []Outcome, error) {
	byPartition := map[int32]kafkaadmin.Bounds{}
	for _, b := range bounds {
		byPartition[b.Partition] = b
	}
	var spans []span
	var refused []Outcome
	field := "class"
	switch {
	case len(sel.Offsets) > 0:
		field = "offsets"
		wanted := map[int32]map[int64]bool{}
		for _, c := range sel.Offsets {
			b, ok := byPartition[c.Partition]
			if !ok || c.Offset < b.Start || c.Offset >= b.End {
				refused = append(refused, refuse(c.Partition, c.Offset, holds(b, ok)))
				continue
			}
			if wanted[c.Partition] == nil {
				wanted[c.Partition] = map[int64]bool{}
			}
			wanted[c.Partition][c.Offset] = true
		}
		for p, offs := range wanted {
			keys := slices.Sorted(maps.Keys(offs))
			spans = append(spans, span{p, keys[0], keys[len(keys)-1] + 1, offs})
		}
	case len(sel.UpTo) > 0:
		field = "up_to"
		for _, c := range sel.UpTo {
			b, ok := byPartition[c.Partition]
			if !ok {
				return nil, nil, apiserver.FieldErrorf(apiserver.CodeInvalid, field, "the dead-letter topic has no partition %d", c.Partition)
			}
			if to := min(c.Offset+1, b.End); to > b.Start {
				spans = append(spans, span{partition: c.Partition, from: b.Start, to: to})
			}
		}
	default:
		for _, b := range bounds {
			if b.End > b.Start {
				spans = append(spans, span{partition: b.Partition, from: b.Start, to: b.End})
			}
		}
	}
	total := int64(0)
	for _, sp := range spans {
		total += sp.to - sp.from
	}
	if total > MaxSelection {
		return nil, nil, apiserver.FieldErrorf(apiserver.CodeInvalid, field,
			"the selection spans %d records, more than %d per request: narrow it with up_to", total, MaxSelection)
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.partition - b.partition) })
	return spans, refused, nil
}

func holds(b kafkaadmin.Bounds, ok bool) string {
	switch {
	case !ok:
		return "the dead-letter topic has no such partition"
	case b.End == b.Start:
		return "the partition holds no records"
	}
	return fmt.Sprintf("no record at this offset: the partition holds %d to %d", b.Start, b.End-1)
}

func refuse(p int32, off int64, reason string) Outcome {
	return Outcome{Partition: p, Offset: off, Status: StatusRefused, Reason: reason}
}
