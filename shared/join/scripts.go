package join

import (
	"context"
	"crypto/sha1"
	"encoding/hex"

	"github.com/redis/go-redis/v9"
)

// addScript decides the fate of one fragment atomically.
//
// KEYS: 1 aggregate, 2 pending set, 3 claimed set, 4 tombstone.
// ARGV: 1 id, 2 field (d:<topic>), 3 traceparent, 4 value, 5 now ms,
// 6 deadline ms, 7 number of topics, 8 state TTL ms, 9 claim deadline ms.
// Reply: {0} pending, {2} duplicate, {1, HGETALL aggregate} completed.
//
// An aggregate past its deadline but not yet reaped can still complete:
// whichever of Add and Reap runs first owns it.
const addLua = `
if redis.call('EXISTS', KEYS[4]) == 1 then return {2} end
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return {2} end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'f', ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
end
local seq = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], ARGV[2], seq .. ':' .. string.len(ARGV[3]) .. ':' .. ARGV[3] .. ARGV[4])
-- fields are f, n and one d:<topic> per topic that has delivered
if redis.call('HLEN', KEYS[1]) - 2 < tonumber(ARGV[7]) then return {0} end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[8])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return {1, redis.call('HGETALL', KEYS[1])}
`

// confirmLua forgets a completed aggregate and leaves its tombstone.
//
// KEYS: 1 aggregate, 2 pending set, 3 claimed set, 4 tombstone.
// ARGV: 1 id, 2 now ms, 3 tombstone TTL ms.
const confirmLua = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
return 1
`

// reapLua takes up to limit expired aggregates of one bucket and deletes them.
// Aggregate keys are built from ARGV[3]; they share the bucket's hash tag, so
// the script stays on one slot.
//
// KEYS: 1 pending set. ARGV: 1 now ms, 2 limit, 3 aggregate key prefix.
// Reply: {scanned, id, HGETALL, id, HGETALL, ...}; members whose aggregate
// already expired by TTL are dropped and only counted in scanned.
const reapLua = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {#ids}
for _, id in ipairs(ids) do
  local k = ARGV[3] .. id
  local h = redis.call('HGETALL', k)
  redis.call('DEL', k)
  redis.call('ZREM', KEYS[1], id)
  if #h > 0 then
    out[#out + 1] = id
    out[#out + 1] = h
  end
end
return out
`

// reclaimLua hands out again up to limit claims of one bucket whose claim
// deadline passed, pushing each deadline forward so no other caller gets it
// within the next claim window.
//
// KEYS: 1 claimed set. ARGV: 1 now ms, 2 limit, 3 aggregate key prefix,
// 4 new claim deadline ms, 5 state TTL ms.
// Reply: as reapLua.
const reclaimLua = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {#ids}
for _, id in ipairs(ids) do
  local k = ARGV[3] .. id
  local h = redis.call('HGETALL', k)
  if #h == 0 then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('ZADD', KEYS[1], ARGV[4], id)
    redis.call('PEXPIRE', k, ARGV[5])
    out[#out + 1] = id
    out[#out + 1] = h
  end
end
if #ids > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return out
`

// script is a Lua source and its SHA-1, the name EVALSHA knows it by.
type script struct {
	src, sha string
}

func newScript(src string) *script {
	sum := sha1.Sum([]byte(src))
	return &script{src: src, sha: hex.EncodeToString(sum[:])}
}

var (
	addScript     = newScript(addLua)
	confirmScript = newScript(confirmLua)
	reapScript    = newScript(reapLua)
	reclaimScript = newScript(reclaimLua)
)

// call is one invocation of a script.
type call struct {
	keys []string
	args []any
}

// runPipelined sends every call as EVALSHA in one pipeline. Calls answered
// NOSCRIPT did not run; they are sent again as EVAL in a second pipeline,
// which also loads the script for the next time. The caller reads each
// command's own error: a failed call does not hide the replies of the others.
func runPipelined(ctx context.Context, rdb redis.UniversalClient, sc *script, calls []call) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	pipe := rdb.Pipeline()
	for i, c := range calls {
		cmds[i] = pipe.EvalSha(ctx, sc.sha, c.keys, c.args...)
	}
	// Errors are per command; inspected below and by the caller.
	_, _ = pipe.Exec(ctx)

	var retry []int
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	if len(retry) == 0 {
		return cmds
	}
	pipe = rdb.Pipeline()
	for _, i := range retry {
		cmds[i] = pipe.Eval(ctx, sc.src, calls[i].keys, calls[i].args...)
	}
	_, _ = pipe.Exec(ctx)
	return cmds
}
