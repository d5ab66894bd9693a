"""The onboarding quiz: questions editors build in the CMS whose answers choose topics to follow and set traits."""
