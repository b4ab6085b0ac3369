// Package sample makes the sample documents of the load generator: several
// languages, each document carrying its expected language so that tests can
// check what the pipeline made of it.
package sample

import (
	"encoding/json"
	"fmt"
)

// Sample is one sample text and its ISO 639-1 language.
type Sample struct {
	Language string
	Title    string
	Text     string
}

// Samples are the texts documents are made of, one language each, long
// enough (several sentences) for language detection and summaries.
var Samples = []Sample{
	{"en", "Rivers", "Rivers shape the land they cross. Over thousands of years they carve valleys and carry soil to the sea. Towns grow along their banks because water brings trade and food. Floods remind everyone that a river is never fully tamed."},
	{"fr", "Les rivières", "Les rivières façonnent les terres qu'elles traversent. Au fil des siècles, elles creusent des vallées et portent la terre jusqu'à la mer. Les villes naissent sur leurs rives parce que l'eau apporte le commerce et la nourriture. Les crues rappellent qu'une rivière n'est jamais tout à fait domptée."},
	{"de", "Flüsse", "Flüsse formen das Land, durch das sie fließen. Über Jahrtausende graben sie Täler und tragen Erde bis ins Meer. Städte wachsen an ihren Ufern, weil das Wasser Handel und Nahrung bringt. Hochwasser erinnern daran, dass ein Fluss nie ganz gezähmt ist."},
	{"es", "Los ríos", "Los ríos dan forma a las tierras que atraviesan. Durante miles de años excavan valles y llevan la tierra hasta el mar. Las ciudades crecen en sus orillas porque el agua trae comercio y alimento. Las crecidas recuerdan que un río nunca está del todo domado."},
	{"it", "I fiumi", "I fiumi modellano le terre che attraversano. Nel corso dei millenni scavano valli e portano la terra fino al mare. Le città crescono sulle loro sponde perché l'acqua porta commercio e cibo. Le piene ricordano che un fiume non è mai del tutto domato."},
	{"pt", "Os rios", "Os rios moldam as terras que atravessam. Ao longo de milhares de anos escavam vales e levam a terra até ao mar. As cidades crescem nas suas margens porque a água traz comércio e alimento. As cheias lembram que um rio nunca está totalmente domado."},
}

// Document is the JSON of document n with that id: Samples[n % len] with
// the document's number in its title.
func Document(id string, n int) []byte {
	s := Samples[n%len(Samples)]
	b, _ := json.Marshal(map[string]any{
		"id": id,
		"content": map[string]any{
			"title":    fmt.Sprintf("%s #%d", s.Title, n),
			"text":     s.Text,
			"source":   "loadgen",
			"expected": map[string]string{"language": s.Language},
		},
	})
	return b
}
