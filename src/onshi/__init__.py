"""Onshi: online qualification verification (オンライン資格確認) and the Mynaportal health pages."""
