package main

import (
	"errors"
	"runtime"
	"testing"

	"github.com/tributary-etl/tributary/functions/internal/reject"
)

// sentences holds two or more ordinary sentences per supported language.
var sentences = []struct {
	lang string
	text string
}{
	{"en", "The weather was cold this morning, so we stayed inside and read. In the afternoon the sun came out and we went for a long walk by the river."},
	{"fr", "Il faisait froid ce matin, alors nous sommes restés à la maison pour lire. L'après-midi, le soleil est revenu et nous avons fait une longue promenade."},
	{"de", "Heute Morgen war es kalt, deshalb sind wir zu Hause geblieben und haben gelesen. Am Nachmittag kam die Sonne heraus und wir gingen am Fluss spazieren."},
	{"es", "Esta mañana hacía frío, así que nos quedamos en casa leyendo. Por la tarde salió el sol y dimos un largo paseo junto al río."},
	{"it", "Stamattina faceva freddo, quindi siamo rimasti a casa a leggere. Nel pomeriggio è uscito il sole e abbiamo fatto una lunga passeggiata lungo il fiume."},
	{"pt", "Esta manhã estava frio, por isso ficámos em casa a ler. À tarde o sol apareceu e fomos dar um longo passeio junto ao rio."},
	{"nl", "Vanochtend was het koud, dus we bleven binnen en lazen een boek. In de middag kwam de zon tevoorschijn en maakten we een lange wandeling langs de rivier."},
	{"ro", "În această dimineață a fost frig, așa că am rămas în casă să citim. După-amiază a ieșit soarele și am făcut o plimbare lungă pe malul râului."},
	{"ru", "Сегодня утром было холодно, поэтому мы остались дома и читали. Днём выглянуло солнце, и мы долго гуляли вдоль реки."},
	{"pl", "Dziś rano było zimno, więc zostaliśmy w domu i czytaliśmy. Po południu wyszło słońce i poszliśmy na długi spacer wzdłuż rzeki."},
	{"sv", "I morse var det kallt, så vi stannade inne och läste. På eftermiddagen kom solen fram och vi tog en lång promenad längs floden."},
	// A second, different register per language guards against a table
	// that only works for one kind of sentence.
	{"en", "Please find attached the invoice for last month. Let me know if anything is unclear and I will send the details."},
	{"fr", "Veuillez trouver ci-joint la facture du mois dernier. N'hésitez pas à me contacter si quelque chose n'est pas clair."},
	{"de", "Anbei finden Sie die Rechnung für den letzten Monat. Bitte melden Sie sich, wenn etwas unklar ist."},
	{"es", "Adjunto la factura del mes pasado. Avíseme si algo no está claro y le enviaré los detalles."},
	{"it", "In allegato trova la fattura del mese scorso. Mi faccia sapere se qualcosa non è chiaro e le invierò i dettagli."},
	{"pt", "Em anexo segue a fatura do mês passado. Avise-me se algo não estiver claro e enviarei os detalhes."},
	{"nl", "Bijgaand vindt u de factuur van vorige maand. Laat het me weten als iets niet duidelijk is, dan stuur ik de details."},
	{"ro", "Vă trimit atașat factura pentru luna trecută. Anunțați-mă dacă ceva nu este clar și vă voi trimite detaliile."},
	{"ru", "Во вложении счёт за прошлый месяц. Сообщите мне, если что-то непонятно, и я пришлю подробности."},
}

func TestDetectLanguage(t *testing.T) {
	for _, tc := range sentences {
		t.Run(tc.lang, func(t *testing.T) {
			lang, confidence := detectLanguage(tc.text)
			if lang != tc.lang {
				t.Fatalf("detectLanguage(%q) = %q (%.2f), want %q", tc.text, lang, confidence, tc.lang)
			}
			if confidence < minConfidence || confidence > 1 {
				t.Errorf("confidence = %v, want in [%v, 1]", confidence, minConfidence)
			}
		})
	}
}

// shortPhrases are one-line texts, the hard case for trigram statistics.
// detectLanguage gets 45 of these 50 right (two of the misses are ""); the
// threshold in TestDetectLanguageShortPhrases catches a change of mode or
// language set that makes it clearly worse without pinning each borderline
// phrase.
var shortPhrases = []struct{ lang, text string }{
	{"en", "See you at the station tomorrow"}, {"en", "Thanks, that works for me"}, {"en", "The meeting has been moved to Friday"}, {"en", "Where did you park the car?"},
	{"fr", "On se voit demain à la gare"}, {"fr", "Merci, ça me convient"}, {"fr", "La réunion a été déplacée à vendredi"}, {"fr", "Où as-tu garé la voiture ?"},
	{"de", "Wir sehen uns morgen am Bahnhof"}, {"de", "Danke, das passt mir gut"}, {"de", "Das Treffen wurde auf Freitag verschoben"}, {"de", "Wo hast du das Auto geparkt?"},
	{"es", "Nos vemos mañana en la estación"}, {"es", "Gracias, me viene bien"}, {"es", "La reunión se ha pasado al viernes"}, {"es", "¿Dónde aparcaste el coche?"},
	{"it", "Ci vediamo domani alla stazione"}, {"it", "Grazie, per me va bene"}, {"it", "La riunione è stata spostata a venerdì"}, {"it", "Dove hai parcheggiato la macchina?"},
	{"pt", "Vemo-nos amanhã na estação"}, {"pt", "Obrigado, para mim está ótimo"}, {"pt", "A reunião foi adiada para sexta-feira"}, {"pt", "Onde estacionaste o carro?"},
	{"nl", "Tot morgen op het station"}, {"nl", "Bedankt, dat komt mij goed uit"}, {"nl", "De vergadering is verplaatst naar vrijdag"}, {"nl", "Waar heb je de auto geparkeerd?"},
	{"ro", "Ne vedem mâine la gară"}, {"ro", "Mulțumesc, îmi convine"}, {"ro", "Ședința a fost mutată vineri"}, {"ro", "Unde ai parcat mașina?"},
	{"ru", "Увидимся завтра на вокзале"}, {"ru", "Спасибо, мне подходит"}, {"ru", "Встречу перенесли на пятницу"}, {"ru", "Где ты припарковал машину?"},
	{"pl", "Do zobaczenia jutro na dworcu"}, {"pl", "Dzięki, to mi pasuje"}, {"pl", "Spotkanie przeniesiono na piątek"}, {"pl", "Gdzie zaparkowałeś samochód?"},
	{"sv", "Vi ses på stationen i morgon"}, {"sv", "Tack, det passar mig bra"}, {"sv", "Mötet har flyttats till fredag"}, {"sv", "Var parkerade du bilen?"},
	{"es", "Los resultados del partido de ayer fueron increíbles"}, {"pt", "Os resultados do jogo de ontem foram incríveis"}, {"it", "I risultati della partita di ieri sono stati incredibili"},
	{"ro", "Rezultatele meciului de ieri au fost incredibile"}, {"nl", "De uitslag van de wedstrijd van gisteren was ongelooflijk"}, {"de", "Die Ergebnisse des gestrigen Spiels waren unglaublich"},
}

func TestDetectLanguageShortPhrases(t *testing.T) {
	const wantAtLeast = 44
	right := 0
	for _, tc := range shortPhrases {
		lang, confidence := detectLanguage(tc.text)
		if lang == tc.lang {
			right++
		} else {
			t.Logf("%q: got %q (%.2f), want %q", tc.text, lang, confidence, tc.lang)
		}
	}
	if right < wantAtLeast {
		t.Errorf("%d/%d short phrases right, want at least %d", right, len(shortPhrases), wantAtLeast)
	}
}

func TestDetectLanguageUnknown(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"spaces", "   \n\t "},
		{"one short word", "Bonjour"},
		{"digits and punctuation", "12345 678-90 !!! ??? 3.14159 2026-11-24"},
		{"emoji", "😀😀😀 🎉🎉🎉 👍👍👍 🚀🚀🚀"},
		{"unsupported script", "今日は寒かったので、家で本を読みました。午後は川沿いを散歩しました。"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if lang, confidence := detectLanguage(tc.text); lang != "" || confidence != 0 {
				t.Errorf("detectLanguage(%q) = %q, %v; want \"\", 0", tc.text, lang, confidence)
			}
		})
	}
}

func TestAnnotate(t *testing.T) {
	msg := map[string]any{
		"id":      "42",
		"content": map[string]any{"text": sentences[1].text, "source": "rss"},
	}
	if err := annotate(msg); err != nil {
		t.Fatalf("annotate: %v", err)
	}
	content := msg["content"].(map[string]any)
	if got := content["language"]; got != "fr" {
		t.Errorf("content.language = %v, want fr", got)
	}
	if c, ok := content["language_confidence"].(float64); !ok || c < minConfidence {
		t.Errorf("content.language_confidence = %v, want float64 >= %v", content["language_confidence"], minConfidence)
	}
	if content["source"] != "rss" || msg["id"] != "42" {
		t.Errorf("other fields changed: %v", msg)
	}
}

func TestAnnotateUnknownSetsEmpty(t *testing.T) {
	msg := map[string]any{"content": map[string]any{"text": "ok"}}
	if err := annotate(msg); err != nil {
		t.Fatalf("annotate: %v", err)
	}
	content := msg["content"].(map[string]any)
	if content["language"] != "" || content["language_confidence"] != 0.0 {
		t.Errorf("content = %v, want language \"\" and confidence 0", content)
	}
}

func TestAnnotateRejects(t *testing.T) {
	tests := []struct {
		name      string
		msg       map[string]any
		wantField string
	}{
		{"no content", map[string]any{"id": "1"}, "content"},
		{"content not an object", map[string]any{"content": "hello"}, "content"},
		{"no text", map[string]any{"content": map[string]any{}}, "content.text"},
		{"text not a string", map[string]any{"content": map[string]any{"text": 12}}, "content.text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := annotate(tc.msg)
			var rej *reject.FieldError
			if !errors.As(err, &rej) {
				t.Fatalf("annotate() error = %v, want a *reject.FieldError", err)
			}
			if rej.Field != tc.wantField {
				t.Errorf("Field = %q, want %q (error %q)", rej.Field, tc.wantField, err)
			}
			if c, ok := tc.msg["content"].(map[string]any); ok {
				if _, set := c["language"]; set {
					t.Errorf("content.language set on a rejected message")
				}
			}
		})
	}
}

// BenchmarkDetectLanguage reports time per call on a two-sentence text and,
// as heap-MB, the live heap held by the loaded models.
func BenchmarkDetectLanguage(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	detectLanguage(sentences[0].text) // loads the models
	runtime.GC()
	runtime.ReadMemStats(&after)
	heapMB := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)

	for _, tc := range []struct{ name, text string }{
		{"en", sentences[0].text},
		{"ro", sentences[7].text},
		{"ru", sentences[8].text},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				detectLanguage(tc.text)
			}
			b.ReportMetric(heapMB, "heap-MB")
		})
	}
}
