package main

// An extractive summary: the text's own sentences, scored by how many of the
// text's frequent content words they carry, the best kept in reading order.
// It needs no model, so it is deterministic, cheap, and works for any
// language with word separators; only stop-word removal is English-specific,
// with a length rule as the fallback for other languages.

import (
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tributary-etl/tributary/functions/internal/reject"
)

// ellipsis marks a sentence cut short because it alone exceeds maxChars.
const ellipsis = "…"

// summarize returns at most maxSentences of text's sentences, joined by a
// space, in their original order, in at most maxChars characters (runes).
// Sentences are chosen by score, best first, skipping any that would break
// maxChars. When no whole sentence fits, the best one is cut after its last
// whole word that fits and ends in "…"; when not even its first word fits, or
// either bound is below 1, or text has no words, it returns "". White space
// inside a sentence is collapsed to single spaces; nothing else is rewritten,
// so every word of the summary is a word of text. It is a pure function.
func summarize(text string, maxSentences, maxChars int) string {
	if maxSentences < 1 || maxChars < 1 {
		return ""
	}
	sentences := splitSentences(text)
	if len(sentences) == 0 {
		return ""
	}
	for i, s := range sentences {
		sentences[i] = strings.Join(strings.Fields(s), " ")
	}
	scores := scoreSentences(sentences)

	ranked := make([]int, len(sentences))
	for i := range ranked {
		ranked[i] = i
	}
	// Stable, so equal scores keep reading order: earlier sentences win.
	sort.SliceStable(ranked, func(a, b int) bool { return scores[ranked[a]] > scores[ranked[b]] })

	chosen := make([]bool, len(sentences))
	count, length := 0, 0
	for _, i := range ranked {
		if count == maxSentences {
			break
		}
		n := utf8.RuneCountInString(sentences[i])
		if count > 0 {
			n++ // the joining space
		}
		if length+n > maxChars {
			continue
		}
		chosen[i] = true
		count++
		length += n
	}
	if count == 0 {
		return truncateWords(sentences[ranked[0]], maxChars)
	}
	picked := make([]string, 0, count)
	for i, s := range sentences {
		if chosen[i] {
			picked = append(picked, s)
		}
	}
	return strings.Join(picked, " ")
}

// truncateWords returns the longest run of s's leading words that fits in
// maxChars runes together with the ellipsis, or "" if the first word does not.
// Trailing commas and similar are dropped before the ellipsis.
func truncateWords(s string, maxChars int) string {
	budget := maxChars - utf8.RuneCountInString(ellipsis)
	end, length := 0, 0
	for i, w := range strings.Fields(s) {
		n := utf8.RuneCountInString(w)
		if i > 0 {
			n++
		}
		if length+n > budget {
			break
		}
		length += n
		end = strings.Index(s[end:], w) + end + len(w)
	}
	kept := strings.TrimRight(s[:end], ",;:-–— ")
	if kept == "" {
		return ""
	}
	return kept + ellipsis
}

// scoreSentences gives each sentence the sum of its content words'
// frequencies in the whole text, each divided by the highest frequency,
// damped by the square root of its content-word count so that neither long
// sentences nor one-word ones win by length alone.
func scoreSentences(sentences []string) []float64 {
	words := make([][]string, len(sentences))
	freq := make(map[string]int)
	top := 0
	for i, s := range sentences {
		words[i] = contentWords(s)
		for _, w := range words[i] {
			freq[w]++
			top = max(top, freq[w])
		}
	}
	scores := make([]float64, len(sentences))
	for i, ws := range words {
		if len(ws) == 0 {
			continue
		}
		sum := 0.0
		for _, w := range ws {
			sum += float64(freq[w]) / float64(top)
		}
		scores[i] = sum / math.Sqrt(float64(len(ws)))
	}
	return scores
}

// contentWords returns s's words in lower case, without stop words. A word
// is a run of letters, digits and combining marks (an apostrophe between
// letters stays inside it); each Han character is a word of its own since
// Chinese and Japanese do not separate words with spaces.
func contentWords(s string) []string {
	var out []string
	keep := func(w string) {
		w = strings.ReplaceAll(w, "’", "'")
		if w == "" || englishStopWords[w] {
			return
		}
		r, _ := utf8.DecodeRuneInString(w)
		// Language-agnostic fallback: words of one or two letters are
		// nearly all articles, pronouns and prepositions.
		if utf8.RuneCountInString(w) < 3 && !unicode.Is(unicode.Han, r) {
			return
		}
		out = append(out, w)
	}
	s = strings.ToLower(s)
	start := -1
	for i, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			if start >= 0 {
				keep(s[start:i])
				start = -1
			}
			keep(string(r))
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case (r == '\'' || r == '’') && start >= 0 && nextIsLetter(s, i+utf8.RuneLen(r)):
			// Inside a word: don't, l’homme.
		default:
			if start >= 0 {
				keep(s[start:i])
				start = -1
			}
		}
	}
	if start >= 0 {
		keep(s[start:])
	}
	return out
}

func nextIsLetter(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// englishStopWords are function words that carry no topic. Short ones (one
// or two letters) are already dropped by contentWords.
var englishStopWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`
		about above after again against all also and any are aren't because
		been before being below between both but can can't cannot could
		couldn't did didn't does doesn't doing don't down during each few for
		from further had hadn't has hasn't have haven't having her here hers
		herself him himself his how i'm i've into isn't it's its itself just
		let's more most mustn't myself nor not now off once only other ought
		our ours ourselves out over own said same say says she shan't she's
		should shouldn't some such than that that's the their theirs them
		themselves then there there's these they they're this those through
		too under until very was wasn't we're were weren't what what's when
		where which while who whom why will with won't would wouldn't you
		you're your yours yourself yourselves one two may might must
		shall upon yet get got`) {
		m[w] = true
	}
	return m
}()

// abbreviations end with a full stop that rarely ends a sentence. Keys are
// lower case without the final stop. Single letters (initials) are handled
// separately, and any stop followed by a lower-case word is never a boundary,
// so this list only needs the ones usually followed by a capital or a digit.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true,
	"jr": true, "st": true, "mt": true, "vs": true, "cf": true, "fig": true,
	"no": true, "nr": true, "vol": true, "approx": true, "ca": true,
	"inc": true, "ltd": true, "corp": true, "dept": true, "gen": true,
	"e.g": true, "i.e": true, "z.b": true, "d.h": true, "mme": true,
	"mlle": true, "sra": true, "srta": true, "dra": true, "sig": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true,
	"jul": true, "aug": true, "sep": true, "sept": true, "oct": true,
	"nov": true, "dec": true,
}

// isTerminator reports whether r can end a sentence.
func isTerminator(r rune) bool {
	switch r {
	case '.', '!', '?', '…', '‼', '⁇', '⁈', '⁉', '؟', '।', '。', '！', '？', '｡':
		return true
	}
	return false
}

// endsWithoutSpace reports whether r ends a sentence even when the next one
// follows without a space, as in Chinese and Japanese.
func endsWithoutSpace(r rune) bool {
	return r == '。' || r == '！' || r == '？' || r == '｡'
}

// isCloser reports whether r may follow a terminator and still belong to the
// sentence it ends, as in `He said "no."`.
func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '}', '»', '›', '”', '’', '」', '』', '）':
		return true
	}
	return false
}

// splitSentences splits text into sentences, each a substring of text with
// surrounding white space trimmed; pieces with no letter or digit are
// dropped. A blank line also ends a sentence, so headlines and list items
// without punctuation stand alone.
func splitSentences(text string) []string {
	var out []string
	emit := func(s string) {
		s = strings.TrimSpace(s)
		if strings.IndexFunc(s, isWordRune) >= 0 {
			out = append(out, s)
		}
	}
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n':
			j := skipSpace(text, i)
			if strings.Count(text[i:j], "\n") >= 2 {
				emit(text[start:i])
				start = j
			}
			i = j // the rest of the white space can end nothing
			continue
		case isTerminator(r):
			j := skipTerminators(text, i)
			if endsSentence(text, i, j) {
				emit(text[start:j])
				start, i = j, j
				continue
			}
			i = j
			continue
		}
		i += size
	}
	emit(text[start:])
	return out
}

// skipTerminators returns the index after the run of terminators and closing
// quotes or brackets that starts at i.
func skipTerminators(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isTerminator(r) && !isCloser(r) {
			break
		}
		i += size
	}
	return i
}

// skipSpace returns the index of the first non-space rune at or after i.
func skipSpace(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

// endsSentence decides whether the terminator run text[i:j] ends a sentence.
func endsSentence(text string, i, j int) bool {
	if j == len(text) {
		return true
	}
	first, _ := utf8.DecodeRuneInString(text[i:])
	last, _ := utf8.DecodeLastRuneInString(text[i:j])
	if endsWithoutSpace(first) || endsWithoutSpace(last) {
		return true
	}
	next, _ := utf8.DecodeRuneInString(text[j:])
	if !unicode.IsSpace(next) {
		return false // 3.14, example.com, "?!x"
	}
	k := skipSpace(text, j)
	if k == len(text) {
		return true
	}
	if after, _ := utf8.DecodeRuneInString(text[k:]); unicode.IsLower(after) {
		return false // "approx. five", "he asked why? and left"
	}
	if text[i:j] != "." {
		return true
	}
	word := lastWord(text[:i])
	if abbreviations[strings.ToLower(word)] {
		return false
	}
	// An initial, as in "J. R. R. Tolkien": one capital before the stop.
	if r, size := utf8.DecodeRuneInString(word); size == len(word) && unicode.IsUpper(r) && word != "I" {
		return false
	}
	return true
}

// lastWord returns the white-space-delimited word that ends s, without
// leading opening punctuation, so "(e.g" gives "e.g".
func lastWord(s string) string {
	start := strings.LastIndexFunc(s, unicode.IsSpace) + 1
	w := s[start:]
	return strings.TrimLeftFunc(w, func(r rune) bool { return !isWordRune(r) })
}

// isWordRune reports whether r can be part of a word.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// annotate sets content.summary on msg, in place, to summarize(content.text,
// maxSentences, maxChars). When content or content.text is missing or not of
// the expected type it leaves msg unchanged and returns a rejection (see
// package reject).
func annotate(msg map[string]any, maxSentences, maxChars int) error {
	content, ok := msg["content"].(map[string]any)
	if !ok {
		return reject.WrongType("content", msg["content"], "an object")
	}
	text, ok := content["text"].(string)
	if !ok {
		return reject.WrongType("content.text", content["text"], "a string")
	}
	content["summary"] = summarize(text, maxSentences, maxChars)
	return nil
}
