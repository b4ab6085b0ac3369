import json
import os
import unittest

import main


class KeywordsTest(unittest.TestCase):
    def setUp(self):
        main.init({})

    def test_repeated_words_rank_first(self):
        text = "Kafka streams data. Kafka keeps data in topics; consumers read topics from Kafka."
        self.assertEqual(main.keywords(text, 3), ["kafka", "data", "topics"])

    def test_stopwords_short_words_and_numbers_are_left_out(self):
        self.assertEqual(main.keywords("It is what it is: 42 go to the sea, ok", 5), ["sea"])

    def test_ties_keep_the_order_of_first_appearance(self):
        self.assertEqual(main.keywords("zebra apple mango", 2), ["zebra", "apple"])

    def test_words_are_unicode_and_lower_cased(self):
        self.assertEqual(main.keywords("Über Straße, über STRASSE", 2), ["über", "straße"])

    def test_process_sets_content_keywords(self):
        msg = {"id": "1", "content": {"text": "Nomad schedules jobs; Nomad restarts jobs."}}
        out = main.process(msg, "keywords", {})
        self.assertEqual(out["content"]["keywords"], ["nomad", "jobs", "schedules", "restarts"])
        self.assertEqual(out["id"], "1")

    def test_process_refuses_a_message_without_text(self):
        with self.assertRaisesRegex(ValueError, "content.text"):
            main.process({"content": {"title": "x"}}, "keywords", {})

    def test_init_limits_max_keywords(self):
        main.init({"max_keywords": 2})
        self.assertEqual(len(main.process({"content": {"text": "alpha beta gamma delta"}}, "k", {})["content"]["keywords"]), 2)
        for bad in (0, 101, "3", 2.5, True):
            with self.assertRaisesRegex(ValueError, "max_keywords"):
                main.init({"max_keywords": bad})
        with self.assertRaisesRegex(ValueError, "max_keyword.*not a setting"):
            main.init({"max_keyword": 3})

    def test_describe_json_states_the_rules_init_checks(self):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "describe.json")) as f:
            schema = json.load(f)["metadata_schema"]
        self.assertFalse(schema["additionalProperties"])
        self.assertEqual(list(schema["properties"]), ["max_keywords"])
        rule = schema["properties"]["max_keywords"]
        self.assertEqual((rule["type"], rule["minimum"], rule["maximum"], rule["default"]),
                         ("integer", 1, main.MAX_MAX_KEYWORDS, main.DEFAULT_MAX_KEYWORDS))


if __name__ == "__main__":
    unittest.main()
