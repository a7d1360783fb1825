"""tfnx: Bayesian neural-network layers for TensorFlow 2."""

import setuptools

setuptools.setup(
    name='tfnx',
    version='0.1.0',
    description=('Fast, reproducible Bayesian neural-network layers for '
                 'TensorFlow 2, compatible with tfp.experimental.nn.'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=setuptools.find_packages(include=['tfnx', 'tfnx.*']),
    python_requires='>=3.9',
    install_requires=[
        'tensorflow>=2.16',
        # TFP refuses to import under TensorFlow 2 without tf-keras (its `tf`
        # extra). tfnx itself never imports tf-keras: its layers are Keras 3.
        'tensorflow-probability[tf]>=0.24',
        'numpy',
    ],
    extras_require={
        'test': ['pytest', 'pytest-xdist', 'scikit-learn', 'scipy',
                 'hypothesis'],
        'examples': ['scikit-learn', 'matplotlib', 'tqdm'],
    },
    license='Apache-2.0',
)
