// Package deadletter lets an operator read a worker's dead-letter topic and
// send its records back to an input (redrive).
//
// # Reading
//
// Browse pages through the topic by (partition, offset): a page starts at a
// cursor, runs through that partition and on into the next ones, and ends
// with the cursor of the next page (nil at the end of the topic). Each
// record comes with the tributary.* headers the runtime wrote
// (shared/worker/deadletter.go) decoded.
//
// # Redrive
//
// A selection (explicit offsets, everything up to an offset per partition,
// optionally only one error class) is sent back to the input each record
// came from (its tributary.source.topic, on the same partition) or to an
// input topic the operator names, with the dead letter's own tributary.*
// headers removed and two added: tributary.redrive.count (one more than
// the record carried) and tributary.redrive.from (topic/partition/offset
// of the dead letter). A record already redriven MaxRedrives times is
// refused with the reason, so a message that keeps failing cannot loop.
//
// Redrive is idempotent per dead-letter record. A Ledger (MySQL) records
// each record before it is sent (claimed) and after Kafka acknowledged it
// (sent): a record already sent is never sent again, and two requests
// racing on one record send it once. A claim whose sender died before
// confirming is taken over after ClaimTimeout, so a crash between sending
// and confirming may send that record twice, never zero times: the
// platform's at-least-once.
//
// An aggregate a multi-input join dead-lettered (it carries
// tributary.join.topics) is refused: sent to one input it would be one
// fragment waiting for the others, which were consumed long ago, and the
// id's tombstone would suppress it anyway.
package deadletter
