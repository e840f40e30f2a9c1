"""The desktop's launcher files for Vistavox (app id io.github.vistavox.Vistavox): the
freedesktop .desktop file, the AppStream metainfo and the hicolor PNG icons (rendered from
resources/icons/vistavox.svg by packaging/render_icons.py). Installed as the package data of
``vistavox.resources.freedesktop``; `vistavox desktop-entry install` copies them into the
user's data folder (vistavox.pipelines.desktop_entry)."""
