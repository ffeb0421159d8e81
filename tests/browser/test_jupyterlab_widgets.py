"""The ipywidgets front-end works in the course's JupyterLab: an explorer shows as controls and an
image, not as the text ``VBox(children=...)`` students see when the front-end is missing."""

import json

CODE = "from course_utils.widgets import conv_arithmetic_explorer\nconv_arithmetic_explorer()"


def test_jupyterlab_loads_the_ipywidgets_extension(browser, lab):
    page = browser.new_page()
    try:
        page.goto(lab.url("lab/workspaces/extensions"))
        config = json.loads(page.locator("#jupyter-config-data").text_content())
        names = {ext["name"] for ext in config.get("federated_extensions", [])}
        assert "@jupyter-widgets/jupyterlab-manager" in names, (
            f"JupyterLab lists no ipywidgets extension (found {sorted(names)}): install "
            "jupyterlab_widgets in the environment that runs `jupyter lab`")
    finally:
        page.close()


def test_an_explorer_renders_as_widgets_in_a_console(browser, lab):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(lab.url("lab/workspaces/console"))
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell")
        page.evaluate("""async (code) => {
            const app = window.jupyterapp;
            await app.restored;
            const panel = await app.commands.execute('console:create',
                {kernelPreference: {name: 'python3'}, activate: true});
            await panel.sessionContext.ready;
            await panel.console.inject(code);
        }""", CODE)
        output = page.locator(".jp-CodeConsole .jp-OutputArea-output").last
        output.locator(".widget-slider").first.wait_for(state="visible")
        assert output.locator(".jupyter-widgets").count() > 1
        assert output.locator(".widget-slider").count() >= 5  # i, k, s, p, a, row, col
        assert output.locator(".widget-dropdown select").count() == 1
        image = output.locator("img").first
        image.wait_for(state="visible")
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "empty image"
        text_fallback = output.locator(".jp-RenderedText")
        assert text_fallback.count() == 0, text_fallback.all_inner_texts()
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    finally:
        page.close()
