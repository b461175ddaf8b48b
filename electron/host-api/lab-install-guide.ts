// What the JupyterLab screen says when no JupyterLab was found: install steps for the user's platform (for
// people, not the CLI), and the setting that tells the app which command to run instead.

/** Install guidance for one platform, one step a line (the UI shows it as a copyable block). */
export function labInstallGuide(platform: NodeJS.Platform = process.platform): string {
  const common = [
    'pip install jupyterlab                    (in the Python environment you use)',
    'conda install -c conda-forge jupyterlab   (in a conda environment)',
  ];
  if (platform === 'darwin')
    return [...common, 'brew install jupyterlab                   (Homebrew)'].join('\n');
  if (platform === 'win32')
    return [
      'py -m pip install jupyterlab              (Python from python.org or the Microsoft Store)',
      'conda install -c conda-forge jupyterlab   (in an Anaconda or Miniconda prompt)',
    ].join('\n');
  return [
    ...common,
    'sudo apt install pipx && pipx install jupyterlab   (Debian/Ubuntu)',
    'sudo apt install jupyter-notebook                  (Debian/Ubuntu package: set the command to "jupyter notebook")',
  ].join('\n');
}

export const LAB_NOT_INSTALLED_MESSAGE =
  'JupyterLab is not installed on this computer, or not where Gateway Desktop looks for it. Install it, or set the "JupyterLab command" in Settings to the command that starts it.';
