package httpapi

import (
	"context"

	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
)

// kafkaDo runs op with an admin client of brokers, dialled for this call
// and closed after it, within cfg.KafkaTimeout. A method expression reads
// well as op: kafkaDo(ctx, s, brokers, (*kafkaadmin.Admin).Topics).
func kafkaDo[T any](ctx context.Context, s *Server, brokers []string, op func(*kafkaadmin.Admin, context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.KafkaTimeout)
	defer cancel()
	kc, err := kafkaadmin.Dial(brokers)
	if err != nil {
		var zero T
		return zero, err
	}
	defer kc.Close()
	return op(kc, ctx)
}
