package join

import (
	"context"
	"crypto/sha1"
	"encoding/hex"

	"github.com/redis/go-redis/v9"
)

// The scripts below share the key layout of doc.go. P is a bucket's key
// prefix "trib:{<worker>:<bucket>}:"; every key a script touches starts with
// it, so each call stays on one Redis Cluster slot. KEYS[1] is always one of
// the bucket's keys, so that go-redis routes the call to the right node.

// applyLua applies one batch to one bucket: first the confirmations, then
// the fragments, in order.
//
// KEYS: 1 P..'n' (pending counter).
// ARGV: 1 P, 2 now ms, 3 join timeout ms, 4 claim timeout ms, 5 state TTL ms,
// 6 tombstone TTL ms, 7 due slot ms, 8 number of topics, 9 number of
// confirmations C, 10 the batch's token (empty for none), then C key suffixes
// ('j:<id>' completed, 'x:...' expired), then 4 values per fragment: id,
// topic index (1-based), traceparent, value.
// Reply: one entry per fragment, 0 pending, 2 duplicate, or
// {1, HGETALL of the join} for the fragment that completed it.
//
// A join's state field s is 'p:<seq>:<flags>' while pending (flags: one
// '0'/'1' per topic, seq: arrival counter) and 'c:<claim deadline ms>' once
// claimed, or 'c:<claim deadline ms>:<token>:<n>' when claimed by the n-th
// fragment (from 0) of this call under a token. The same fragment of a call
// under the same token, the retry of a batch whose reply was lost, gets the
// completion again instead of a duplicate. A tombstone is a string under
// the same key, so HGET on it fails with WRONGTYPE: that one error is how a
// duplicate of a confirmed id shows.
const applyLua = `
local P, now = ARGV[1], tonumber(ARGV[2])
local timeout, claim, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local tomb, slot, ntopics = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local nconf, token = tonumber(ARGV[9]), ARGV[10]
for i = 11, 10 + nconf do
  local sfx = ARGV[i]
  if string.sub(sfx, 1, 1) == 'j' then
    redis.call('SET', P .. sfx, now, 'PX', tomb)
  else
    redis.call('DEL', P .. sfx)
  end
end
local claimState = 'c:' .. (now + claim)
local keepUntil = now + 2 * claim -- a claim's key must outlive its reclaim
local created, claimed = {}, {}
local out = {}
local first = 11 + nconf
-- The claim tag of the fragment at ARGV[i], built only when a claim is
-- made or met: most fragments are neither.
local function mine(i)
  if token == '' then return '' end
  return ':' .. token .. ':' .. ((i - first) / 4)
end
for i = first, #ARGV, 4 do
  local id, t, tp, v = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
  local k = P .. 'j:' .. id
  local field, data = 'd:' .. t, ':' .. string.len(tp) .. ':' .. tp .. v
  local h = redis.pcall('HMGET', k, 's', 'f')
  local st = h[1]
  if h.err then
    out[#out + 1] = 2
  elseif st and string.sub(st, 1, 1) == 'c' then
    if token ~= '' and string.match(st, '^c:%d+(.*)$') == mine(i) then
      out[#out + 1] = {1, redis.call('HGETALL', k)} -- this fragment claimed it, and the reply was lost
    else
      out[#out + 1] = 2
    end
  elseif not st then
    local flags = string.rep('0', t - 1) .. '1' .. string.rep('0', ntopics - t)
    redis.call('HSET', k, 's', 'p:1:' .. flags, 'f', now, field, '1' .. data)
    redis.call('PEXPIRE', k, ttl)
    created[#created + 1] = 'j:' .. id
    out[#out + 1] = 0
  else
    local seq, flags = string.match(st, '^p:(%d+):(.*)$')
    seq = tonumber(seq) + 1
    flags = string.sub(flags, 1, t - 1) .. '1' .. string.sub(flags, t + 1)
    if string.find(flags, '0', 1, true) then
      redis.call('HSET', k, 's', 'p:' .. seq .. ':' .. flags, field, seq .. data)
      out[#out + 1] = 0
    else
      redis.call('HSET', k, 's', claimState .. mine(i), field, seq .. data)
      if tonumber(h[2]) + ttl < keepUntil then redis.call('PEXPIRE', k, ttl) end
      claimed[#claimed + 1] = 'j:' .. id
      out[#out + 1] = {1, redis.call('HGETALL', k)}
    end
  end
end
-- The due lists get one RPUSH per call, in chunks within Lua's stack.
local function due(deadline, sfxs)
  local lk = P .. 'due:' .. math.floor(deadline / slot)
  for c = 1, #sfxs, 1000 do
    redis.call('RPUSH', lk, unpack(sfxs, c, math.min(c + 999, #sfxs)))
  end
  redis.call('PEXPIRE', lk, ttl)
end
if #created > 0 then due(now + timeout, created) end
if #claimed > 0 then due(now + claim, claimed) end
if #created ~= #claimed then
  if redis.call('INCRBY', KEYS[1], #created - #claimed) < 0 then redis.call('SET', KEYS[1], 0) end
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return out
`

// sweepLua walks the due lists of one bucket whose slot has fully passed,
// oldest first, from the slot after the bucket's cursor, and hands out every
// entry whose deadline passed:
//   - a pending join past its timeout is renamed to an expiry claim
//     'x:<first seen>:<id>' (so the id can start over) with a claim deadline;
//   - a claim ('c' completion, 'e' expiry) past its deadline gets a new
//     deadline, without the token of the batch that claimed it, and is
//     handed out again.
//
// Every claim handed out is pushed on the due list of its new deadline, so a
// caller that dies before confirming it only delays it. Entries that point
// at a key confirmed, expired or restarted since are dropped.
//
// KEYS: 1 P..'cursor'. ARGV: 1 P, 2 now ms, 3 join timeout ms, 4 claim
// timeout ms, 5 state TTL ms, 6 due slot ms, 7 most entries to take.
// Reply: {entries taken, kind, key suffix, HGETALL, ...} with kind 'e' (an
// expiry to publish) or 'c' (a completion to emit again).
const sweepLua = `
local P, now = ARGV[1], tonumber(ARGV[2])
local timeout, claim, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local slot, limit = tonumber(ARGV[6]), tonumber(ARGV[7])
local last = math.floor(now / slot) - 1
local cur = tonumber(redis.call('GET', KEYS[1]) or (math.floor((now - tonumber(ttl)) / slot) - 1))
local claimDue = P .. 'due:' .. math.floor((now + claim) / slot)
local out, taken, pushed, expired = {0}, 0, 0, 0
while cur < last and taken < limit do
  local lk = P .. 'due:' .. (cur + 1)
  local entries = redis.call('LPOP', lk, limit - taken)
  if entries then
    taken = taken + #entries
    for _, sfx in ipairs(entries) do
      local k = P .. sfx
      local h = redis.pcall('HMGET', k, 's', 'f')
      local st = type(h) == 'table' and h[1]
      if st then
        local kind = string.sub(st, 1, 1)
        if kind == 'p' and tonumber(h[2]) + timeout <= now then
          local x = 'x:' .. h[2] .. ':' .. string.sub(sfx, 3)
          redis.call('RENAME', k, P .. x)
          redis.call('HSET', P .. x, 's', 'e:' .. (now + claim))
          redis.call('PEXPIRE', P .. x, ttl)
          redis.call('RPUSH', claimDue, x)
          pushed, expired = pushed + 1, expired + 1
          out[#out + 1] = 'e'
          out[#out + 1] = x
          out[#out + 1] = redis.call('HGETALL', P .. x)
        elseif kind ~= 'p' and tonumber(string.match(st, '^.:(%d+)')) <= now then
          redis.call('HSET', k, 's', kind .. ':' .. (now + claim))
          redis.call('PEXPIRE', k, ttl)
          redis.call('RPUSH', claimDue, sfx)
          pushed = pushed + 1
          out[#out + 1] = kind
          out[#out + 1] = sfx
          out[#out + 1] = redis.call('HGETALL', k)
        end
      end
    end
  end
  if redis.call('EXISTS', lk) == 1 then break end
  cur = cur + 1
end
if pushed > 0 then redis.call('PEXPIRE', claimDue, ttl) end
if expired > 0 then
  local n = P .. 'n'
  if redis.call('DECRBY', n, expired) < 0 then redis.call('SET', n, 0) end
  redis.call('PEXPIRE', n, ttl)
end
redis.call('SET', KEYS[1], cur, 'PX', ttl)
out[1] = taken
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
	applyScript = newScript(applyLua)
	sweepScript = newScript(sweepLua)
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
